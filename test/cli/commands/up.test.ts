import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyChain } from '../../../src/audit/index.ts';
import { openStore } from '../../../src/controlplane/index.ts';
import { runCli } from './run-cli.ts';

const EXAMPLE = new URL('../../../examples/platform', import.meta.url).pathname;

describe('paddock up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paddock-up-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('registers the demo users, creates the demo workspace once, and audits it', async () => {
    const dataDir = join(dir, 'data');
    const first = await runCli(['up', '--config', EXAMPLE, '--data-dir', dataDir], dir);
    assert.equal(first.stderr, '');
    assert.equal(first.code, 0);
    assert.match(first.stdout, /5 demo users: alice@example\.com, bob@example\.com/);
    assert.match(first.stdout, /ws-alice for alice@example\.com, profile standard-local \(created\)/);
    assert.match(first.stdout, /1 records, chain intact/);
    assert.match(first.stdout, /sandbox +this host can run agent sandboxes/);

    const second = await runCli(['up', '--config', EXAMPLE, '--data-dir', dataDir, '--json'], dir);
    assert.equal(second.code, 0);
    const result = JSON.parse(second.stdout);
    assert.equal(result.workspace.created, false);
    assert.equal(result.auditRecords, 1, 'a second run must not record a second creation');

    const store = await openStore({ url: result.storeUrl });
    try {
      assert.deepEqual((await store.getUser('bob@example.com'))?.groups, [
        'engineering',
        'appsec',
        'engineering-leads',
      ]);
      const workspace = await store.getWorkspace('ws-alice');
      assert.equal(workspace?.owner, 'alice@example.com');
      assert.equal(workspace?.state, 'created');
    } finally {
      await store.close();
    }
    const log = join(dataDir, 'audit', 'controlplane.jsonl');
    assert.equal((await verifyChain(log)).ok, true);
    const event = JSON.parse((await readFile(log, 'utf8')).trim()).event;
    assert.equal(event.class_uid, 6002);
    assert.equal(event.metadata.event_code, 'workspace.created');
    assert.equal(event.device.uid, 'ws-alice');
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

  it('takes no positional arguments', async () => {
    const result = await runCli(['up', 'examples/platform'], dir);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^error PDK_CLI_USAGE: paddock up takes no arguments, got "examples\/platform"/,
    );
  });
});
