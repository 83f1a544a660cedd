import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WorkspaceSupervisorConfig } from '../../../src/core/channel/index.ts';
import { writeEncryptedFileSecretStore } from '../../../src/supervisor/index.ts';

// The workspace supervisor's secret store (`config.secrets`) is checked before anything else
// starts: the real main.ts, given a store the sandbox could read (inside the workspace's
// workdir or home, directly or through a symlink), a malformed field, or a store that does not
// decrypt, exits 1 with the coded error naming the file, and never dials the control plane.

const MAIN = fileURLToPath(new URL('../../../src/supervisor/workspace/main.ts', import.meta.url));
const CANARY = 'pdk-canary-ws-secrets-4f3e2d1c0b9a88776655443322110ffe';

interface Exit {
  readonly code: number | null;
  readonly output: string;
}

describe('workspace supervisor: the secret store is refused where the sandbox can read it or it does not open', () => {
  let dir: string;
  let outside: { file: string; keyFile: string };

  const configFor = (name: string, secrets: unknown): string => {
    const config = {
      workspaceId: `ws-${name}`,
      // Nothing listens here: a supervisor that got past the store would keep redialling.
      channelUrl: 'ws://127.0.0.1:9/channel',
      identityFile: join(dir, 'identity.json'),
      configDir: join(dir, 'repo'),
      blueprint: 'none',
      profile: 'none',
      workdir: join(dir, 'workdir'),
      homeDir: join(dir, 'home'),
      auditLog: join(dir, 'state', name, 'audit.log'),
      providerPid: process.pid,
      secrets,
    } as WorkspaceSupervisorConfig;
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  };

  const supervise = (configFile: string): Promise<Exit> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, '--config', configFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });

  const refuses = async (name: string, secrets: unknown, code: string, names: string) => {
    const result = await supervise(configFor(name, secrets));
    assert.equal(result.code, 1, result.output);
    assert.ok(result.output.includes(code), result.output);
    assert.ok(result.output.includes(names), `the error names ${names}: ${result.output}`);
    assert.ok(!result.output.includes(CANARY), 'the secret never appears in the output');
    return result;
  };

  const storeIn = async (sub: string) => {
    const at = join(dir, sub);
    mkdirSync(at, { recursive: true });
    const keyFile = join(at, 'secrets.json.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const file = join(at, 'secrets.json');
    await writeEncryptedFileSecretStore({ file, keyFile, secrets: { token: CANARY } });
    return { file, keyFile };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paddock-ws-secrets-'));
    for (const sub of ['workdir', 'home', 'state', 'repo']) mkdirSync(join(dir, sub));
    outside = await storeIn('private');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a store inside the workspace workdir: PDK_SECRET_STORE_EXPOSED naming the path', async () => {
    const inWorkdir = await storeIn('workdir/.secrets');
    await refuses('in-workdir', inWorkdir, 'PDK_SECRET_STORE_EXPOSED', inWorkdir.file);
  });

  it('a key inside the workspace home (the store outside): refused naming the key', async () => {
    const keyFile = join(dir, 'home', 'secrets.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    await refuses('key-in-home', { file: outside.file, keyFile }, 'PDK_SECRET_STORE_EXPOSED', keyFile);
  });

  it('a path outside that is a symlink into the home: refused', async () => {
    await storeIn('home/store');
    const link = join(dir, 'link-to-home');
    symlinkSync(join(dir, 'home', 'store'), link);
    const viaLink = { file: join(link, 'secrets.json'), keyFile: join(link, 'secrets.json.key') };
    await refuses('symlink', viaLink, 'PDK_SECRET_STORE_EXPOSED', viaLink.file);
  });

  it('a store that does not decrypt (the wrong key): PDK_SECRET_STORE_INVALID naming the store', async () => {
    const wrongKey = join(dir, 'private', 'wrong.key');
    writeFileSync(wrongKey, randomBytes(32), { mode: 0o600 });
    await refuses(
      'wrong-key',
      { file: outside.file, keyFile: wrongKey },
      'PDK_SECRET_STORE_INVALID',
      outside.file,
    );
  });

  it('a store or key that cannot be read: PDK_SECRET_STORE_INVALID naming the file', async () => {
    const missing = join(dir, 'private', 'missing.json');
    await refuses(
      'no-store',
      { file: missing, keyFile: outside.keyFile },
      'PDK_SECRET_STORE_INVALID',
      missing,
    );
    const missingKey = join(dir, 'private', 'missing.key');
    await refuses(
      'no-key',
      { file: outside.file, keyFile: missingKey },
      'PDK_SECRET_STORE_INVALID',
      missingKey,
    );
  });

  it('a malformed field (a relative path, no keyFile): PDK_SECRET_STORE_INVALID naming the field', async () => {
    await refuses(
      'relative',
      { file: 'secrets.json', keyFile: outside.keyFile },
      'PDK_SECRET_STORE_INVALID',
      'secrets.file',
    );
    await refuses('no-keyfile', { file: outside.file }, 'PDK_SECRET_STORE_INVALID', 'secrets.keyFile');
  });
});
