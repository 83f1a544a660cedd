import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { DATA_UID_BASE, LocalProvider, workspaceDirs } from '../../../src/providers/local/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';

// The local provider's files and processes, on the real filesystem with real supervisor
// processes (they dial a port nothing listens on, and keep redialling until stopped).

const CONFIG_DIR = new URL('../../../examples/platform/', import.meta.url).pathname;
const NOWHERE = 'ws://127.0.0.1:9/channel';

const spec = (id: string): WorkspaceSpec => ({
  id,
  owner: 'ada@example.com',
  profile: 'standard-local',
  blueprint: 'coding-agent',
  configDir: CONFIG_DIR,
});

const mode = (path: string) => statSync(path).mode & 0o7777;

/** Whether the process runs (a zombie nobody has reaped yet has exited). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('local provider', () => {
  let dataDir: string;
  let provider: LocalProvider;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'paddock-local-provider-'));
    provider = new LocalProvider({ dataDir, stopGraceMs: 3000 });
  });
  afterEach(async () => {
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('provisions traversable, unlistable directories and a data owner per workspace', async () => {
    await provider.provision(spec('ws-one'));
    await provider.provision(spec('ws-two'));
    const one = workspaceDirs(dataDir, 'ws-one');
    const two = workspaceDirs(dataDir, 'ws-two');
    assert.equal(mode(one.root), 0o711);
    assert.equal(mode(dataDir) & 0o007, 0o001);
    for (const dir of [one.home, one.workspace]) assert.equal(mode(dir), 0o700);
    const uidOne = statSync(one.home).uid;
    const uidTwo = statSync(two.home).uid;
    assert.ok(uidOne >= DATA_UID_BASE && uidTwo >= DATA_UID_BASE);
    assert.notEqual(uidOne, uidTwo);
    assert.equal(statSync(one.workspace).uid, uidOne);
    // Provisioning again keeps the owner.
    await provider.provision(spec('ws-one'));
    assert.equal(statSync(one.home).uid, uidOne);
    assert.equal(provider.status('ws-one'), 'stopped');
    assert.equal(provider.status('ws-none'), 'absent');
  });

  it('refuses ids that are not DNS labels (no path tricks)', async () => {
    for (const id of ['../etc', 'ws/one', 'WS', '', '.hidden', 'a'.repeat(64)]) {
      await assert.rejects(
        provider.provision(spec(id)),
        (error) => isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'),
        id,
      );
    }
  });

  it('refuses a data directory beneath one the sandboxes cannot traverse', async () => {
    const closed = join(dataDir, 'closed');
    mkdirSync(join(closed, 'data'), { recursive: true });
    chmodSync(closed, 0o700);
    const inside = new LocalProvider({ dataDir: join(closed, 'data') });
    await assert.rejects(inside.provision(spec('ws-one')), (error) => {
      assert.ok(isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'));
      assert.match(error.message, /not traversable/);
      return true;
    });
  });

  it('hands the supervisor its identity and config as 0600 files and runs it with the pinned node', async () => {
    const { identity } = await generateIdentity('ws-run');
    await provider.start(spec('ws-run'), identity, NOWHERE);
    const dirs = workspaceDirs(dataDir, 'ws-run');
    assert.equal(mode(dirs.identityFile), 0o600);
    assert.equal(mode(dirs.configFile), 0o600);
    assert.deepEqual(JSON.parse(readFileSync(dirs.identityFile, 'utf8')), identity);
    const config = JSON.parse(readFileSync(dirs.configFile, 'utf8'));
    assert.deepEqual(
      [config.workspaceId, config.channelUrl, config.blueprint, config.homeDir, config.workdir],
      ['ws-run', NOWHERE, 'coding-agent', dirs.home, dirs.workspace],
    );
    const pid = provider.pid('ws-run');
    assert.ok(pid);
    assert.equal(readFileSync(`/proc/${pid}/exe`).equals(readFileSync(process.execPath)), true);
    assert.equal(provider.status('ws-run'), 'running');

    await provider.stop('ws-run');
    assert.equal(provider.pid('ws-run'), undefined);
    assert.equal(running(pid), false);
    assert.equal(provider.status('ws-run'), 'stopped');
    await provider.dropCredentials('ws-run');
    assert.equal(existsSync(dirs.identityFile), false);
    await provider.destroy('ws-run');
    assert.equal(existsSync(dirs.root), false);
    assert.equal(provider.status('ws-run'), 'absent');
  });

  it('writes its secret store, resolved to absolute paths, into every supervisor config; none without it', async () => {
    const { identity } = await generateIdentity('ws-plain');
    await provider.start(spec('ws-plain'), identity, NOWHERE);
    const plain = JSON.parse(readFileSync(workspaceDirs(dataDir, 'ws-plain').configFile, 'utf8'));
    assert.equal('secrets' in plain, false);
    await provider.stop('ws-plain');

    const withSecrets = new LocalProvider({
      dataDir,
      stopGraceMs: 3000,
      secrets: { file: 'relative/secrets.json', keyFile: '/etc/paddock/secrets.key' },
    });
    try {
      for (const id of ['ws-sec-a', 'ws-sec-b']) {
        const { identity: each } = await generateIdentity(id);
        await withSecrets.start(spec(id), each, NOWHERE);
        const config = JSON.parse(readFileSync(workspaceDirs(dataDir, id).configFile, 'utf8'));
        assert.deepEqual(config.secrets, {
          file: join(process.cwd(), 'relative', 'secrets.json'),
          keyFile: '/etc/paddock/secrets.key',
        });
      }
    } finally {
      await withSecrets.close();
    }
  });

  it('a supervisor whose provider process died exits by itself', async () => {
    const entry = new URL('./orphan-entry.ts', import.meta.url).pathname;
    const parent = spawn(process.execPath, [entry, dataDir, CONFIG_DIR], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    assert.ok(pid > 0 && running(pid));
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(running(pid), false, 'the orphaned supervisor is still running');
  });

  it("refuses another workspace's identity, and refuses to rebuild a running workspace", async () => {
    const { identity } = await generateIdentity('ws-other');
    await assert.rejects(provider.start(spec('ws-mine'), identity, NOWHERE), (error) =>
      isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'),
    );
    const own = await generateIdentity('ws-mine');
    await provider.start(spec('ws-mine'), own.identity, NOWHERE);
    await assert.rejects(provider.rebuild(spec('ws-mine')), (error) =>
      isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'),
    );
  });
});
