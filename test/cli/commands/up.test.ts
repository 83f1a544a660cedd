import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../../src/controlplane/index.ts';
import { writeEncryptedFileSecretStore } from '../../../src/supervisor/index.ts';
import { runCli } from './run-cli.ts';

const EXAMPLE = new URL('../../../examples/platform', import.meta.url).pathname;

describe('paddock up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paddock-up-'));
    // Sandboxes reach the workspace's home by path: the data directory's parents must be traversable.
    await chmod(dir, 0o711);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('brings the system up, checks it, stops; again without creating anything twice (--check)', async () => {
    const dataDir = join(dir, 'data');
    const args = ['up', '--config', EXAMPLE, '--data-dir', dataDir, '--port', '0', '--check'];
    const first = await runCli(args, dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /workspace +ws-alice for alice@example\.com: running, supervisor connected/);
    assert.match(first.stdout, /console +http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(first.stdout, /sign in as[\s\S]*bob@example\.com +engineering, appsec, engineering-leads/);
    assert.match(first.stdout, /checked: console, sign-in and workspace answer; stopping/);
    assert.match(first.stdout, /audit +in the store: .*npx paddock audit verify --data-dir data\)/);
    assert.match(
      first.stdout,
      /policy +signed releases, canary at release 1; .*npx paddock policy status --data-dir data\)/,
    );

    const second = await runCli([...args, '--json'], dir);
    assert.equal(second.code, 0, second.stderr);
    const result = JSON.parse(second.stdout);
    assert.equal(result.workspace.id, 'ws-alice');
    assert.equal(result.workspace.connected, true);
    assert.match(result.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

    assert.equal(result.auditVerify, 'npx paddock audit verify --data-dir data');
    // The second start finds nothing new to release.
    assert.deepEqual(result.releases, {
      channel: 'canary',
      release: 1,
      status: 'npx paddock policy status --data-dir data',
    });
    const store = await openStore({ url: result.storeUrl });
    let codes: string[];
    try {
      // One control-plane chain, in the store: bootstrap's events and the running control plane's.
      // ws-alice's events (the reconciler also creates the other assigned demo users' workspaces).
      codes = (await store.readAuditEvents({ source: 'controlplane', limit: 10_000 }))
        .map((record) => record.event as { metadata: { event_code: string }; device?: { uid?: string } })
        .filter((event) => event.device?.uid === 'ws-alice')
        .map((event) => event.metadata.event_code);
      assert.deepEqual((await store.getUser('bob@example.com'))?.groups, [
        'engineering',
        'appsec',
        'engineering-leads',
      ]);
      const workspace = await store.getWorkspace('ws-alice');
      assert.equal(workspace?.owner, 'alice@example.com');
      // Stopping `paddock up` stops the supervisor but not the workspace: the next start resumes it.
      assert.equal(workspace?.state, 'running');
    } finally {
      await store.close();
    }
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir], dir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /intact/);
    assert.equal(codes.filter((code) => code === 'workspace.created').length, 1, 'created once, not twice');
    assert.equal(
      codes.filter((code) => code === 'workspace.started').length,
      1,
      'started once, then resumed',
    );
  });

  it('refuses an invalid repository and writes nothing', async () => {
    const config = join(dir, 'bad');
    await cp(EXAMPLE, config, { recursive: true });
    await writeFile(
      join(config, 'profiles', 'standard-local.yaml'),
      'apiVersion: paddock.dev/v1\nkind: Profile\n',
    );
    const dataDir = join(dir, 'bad-data');
    const result = await runCli(['up', '--config', config, '--data-dir', dataDir], dir);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error PDK_CONFIG_INVALID: desired-state repository .* is invalid/);
    assert.match(result.stderr, /profiles\/standard-local\.yaml:\d+:\d+ /);
    await assert.rejects(readFile(join(dataDir, 'controlplane.db')), { code: 'ENOENT' });
  });

  it('--secrets: every local workspace supervisor is configured with the store and starts with it', async () => {
    const secretsDir = await mkdtemp(join(tmpdir(), 'paddock-up-secrets-'));
    try {
      const file = join(secretsDir, 'secrets.json');
      await writeFile(`${file}.key`, randomBytes(32), { mode: 0o600 });
      await writeEncryptedFileSecretStore({
        file,
        keyFile: `${file}.key`,
        secrets: { 'github-token': 'pdk-canary-up-0f1e2d3c4b5a69788796a5b4c3d2e1f0' },
      });
      const dataDir = join(dir, 'secrets-data');
      const result = await runCli(
        ['up', '--config', EXAMPLE, '--data-dir', dataDir, '--port', '0', '--check', '--secrets', file],
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /workspace +ws-alice for alice@example\.com: running, supervisor connected/,
      );
      const config = JSON.parse(
        await readFile(join(dataDir, 'workspaces', 'ws-alice', 'supervisor.json'), 'utf8'),
      );
      assert.deepEqual(config.secrets, { file, keyFile: `${file}.key` });
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
    }
  });

  it('--secrets: refuses a store inside the workspaces, one that does not decrypt, and --secrets-key alone', async () => {
    const dataDir = join(dir, 'exposed-data');
    const inside = join(dataDir, 'workspaces', 'ws-alice', 'home', 'secrets.json');
    const exposed = await runCli(
      ['up', '--config', EXAMPLE, '--data-dir', dataDir, '--port', '0', '--check', '--secrets', inside],
      dir,
    );
    assert.equal(exposed.code, 1, exposed.stderr);
    assert.match(
      exposed.stderr,
      /^error PDK_SECRET_STORE_EXPOSED: .*secrets\.json is inside --data-dir workspaces/,
    );
    await assert.rejects(readFile(join(dataDir, 'controlplane.db')), { code: 'ENOENT' });

    const garbage = join(dir, 'garbage.json');
    await writeFile(
      garbage,
      '{"format":"paddock-secrets/v1","kdf":{"name":"raw"},"iv":"","tag":"","data":""}',
    );
    await writeFile(`${garbage}.key`, randomBytes(32), { mode: 0o600 });
    const invalid = await runCli(
      ['up', '--config', EXAMPLE, '--data-dir', dataDir, '--port', '0', '--check', '--secrets', garbage],
      dir,
    );
    assert.equal(invalid.code, 1, invalid.stderr);
    assert.match(
      invalid.stderr,
      /^error PDK_SECRET_STORE_INVALID: secret store .*garbage\.json did not decrypt/,
    );
    await assert.rejects(readFile(join(dataDir, 'controlplane.db')), { code: 'ENOENT' });

    const keyAlone = await runCli(['up', '--config', EXAMPLE, '--secrets-key', garbage], dir);
    assert.equal(keyAlone.code, 2);
    assert.match(keyAlone.stderr, /^error PDK_CLI_USAGE: --secrets-key needs --secrets FILE/);
  });

  it('takes no positional arguments', async () => {
    const result = await runCli(['up', 'examples/platform'], dir);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^error PDK_CLI_USAGE: paddock up takes no arguments, got "examples\/platform"/,
    );
  });
});
