import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { AuditSpool, inProcessTransport, openFileSigner } from '../../../src/audit/index.ts';
import {
  AuditCheckpointer,
  auditKeyPath,
  openStore,
  receiveAuditBatch,
  sqliteStoreUrl,
} from '../../../src/controlplane/index.ts';
import { tempDir } from '../../audit/chain-fixtures.ts';
import { runCli } from './run-cli.ts';

// `paddock audit verify` (store), `tail`, `search` and `export` through main(), on a data
// directory whose SQLite store holds two workspaces' shipped spools and a signed checkpoint.

function event(n: number, workspace: string, user: string): Record<string, unknown> {
  return {
    class_uid: n % 4 === 0 ? 1007 : 4001,
    metadata: { uid: `${workspace}-${n}`, event_code: n % 2 ? 'egress.denied' : 'egress.allowed' },
    device: { uid: workspace },
    actor: { user: { uid: `sub-${user}`, email_addr: `${user}@example.com` } },
    action_id: n % 2 ? 2 : 1,
    action: n % 2 ? 'Denied' : 'Allowed',
    message: `connection ${n}`,
  };
}

describe('paddock audit (central store)', () => {
  const dataDir = tempDir();
  before(async () => {
    const store = await openStore({ url: sqliteStoreUrl(dataDir) });
    for (const [ws, user] of [
      ['ws-ada', 'ada'],
      ['ws-bob', 'bob'],
    ] as const) {
      const spool = await AuditSpool.open(join(dataDir, 'spools', ws), { source: ws });
      for (let n = 1; n <= 10; n++) await spool.append(event(n, ws, user));
      await spool.ship(inProcessTransport((batch) => receiveAuditBatch(store, batch, ws)));
      await spool.close();
    }
    await new AuditCheckpointer(store, openFileSigner(auditKeyPath(dataDir))).checkpoint();
    await store.close();
  });

  it('verifies chains and checkpoints with the data directory key, exit 0', async () => {
    const result = await runCli(['audit', 'verify', '--data-dir', dataDir], dataDir);
    assert.deepEqual(result, {
      code: 0,
      stdout: 'audit store: 21 events in 3 chains, 1 signed checkpoint: intact\n',
      stderr: '',
    });
  });

  it('fails closed without a trusted key, naming the first bad checkpoint', async () => {
    const other = join(dataDir, 'other.pem');
    openFileSigner(other);
    const result = await runCli(
      ['audit', 'verify', '--data-dir', dataDir, '--public-key', join(dataDir, 'other.pub.pem')],
      dataDir,
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^audit store: first bad checkpoint 1: signed by key ed25519:[0-9a-f]{32}, which is not among the trusted public keys\n/,
    );
    const failures = await runCli(
      ['audit', 'search', '--event', 'audit.verify_failed', '--data-dir', dataDir, '--json'],
      dataDir,
    );
    const [failure] = JSON.parse(failures.stdout) as {
      event: { status_code: string; severity_id: number };
    }[];
    assert.deepEqual([failure?.event.status_code, failure?.event.severity_id], ['checkpoint_invalid', 4]);
  });

  it('tails the newest events', async () => {
    const result = await runCli(['audit', 'tail', '-n', '3', '--data-dir', dataDir], dataDir);
    assert.equal(result.code, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] as string, /^\S+Z #20 ws-bob#10 egress\.allowed Allowed connection 10$/);
    assert.match(
      lines[1] as string,
      /^\S+Z #21 controlplane#1 audit\.checkpoint_written audit checkpoint 1 signed at gseq 20 over 2 chains$/,
    );
    assert.match(
      lines[2] as string,
      /^\S+Z #22 controlplane#2 audit\.verify_failed audit store verification failed$/,
    );
  });

  it('searches by user, workspace, class and decision, as text and JSON', async () => {
    const denied = await runCli(
      ['audit', 'search', '--user', 'bob@example.com', '--decision', 'deny', '--data-dir', dataDir, '--json'],
      dataDir,
    );
    const found = JSON.parse(denied.stdout) as { source: string; event: { action_id: number } }[];
    assert.equal(found.length, 5);
    assert.ok(found.every((e) => e.source === 'ws-bob' && e.event.action_id === 2));
    const process = await runCli(
      ['audit', 'search', '--workspace', 'ws-ada', '--class', '1007', '--data-dir', dataDir],
      dataDir,
    );
    assert.deepEqual(
      process.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' ')[2]),
      ['ws-ada#4', 'ws-ada#8'],
    );
    const bad = await runCli(['audit', 'search', '--decision', 'maybe', '--data-dir', dataDir], dataDir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--decision must be allow, deny or review, got maybe/);
  });

  it('exports OCSF JSON lines to a 0600 file', async () => {
    const out = join(dataDir, 'export.jsonl');
    const result = await runCli(
      ['audit', 'export', '--format', 'ocsf-jsonl', '--since', '1h', '--out', out, '--data-dir', dataDir],
      dataDir,
    );
    assert.deepEqual([result.code, result.stderr], [0, `exported 22 events to ${out}\n`]);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 22);
    assert.equal(JSON.parse(lines[0] as string).metadata.uid, 'ws-ada-1');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const none = await runCli(
      ['audit', 'export', '--format', 'ocsf-jsonl', '--until', '2000-01-01T00:00:00Z', '--data-dir', dataDir],
      dataDir,
    );
    assert.deepEqual([none.stdout, none.stderr], ['', 'exported 0 events\n']);
    const wrong = await runCli(['audit', 'export', '--format', 'csv', '--data-dir', dataDir], dataDir);
    assert.equal(wrong.code, 2);
    const recorded = await runCli(
      ['audit', 'search', '--event', 'audit.exported', '--data-dir', dataDir, '--json'],
      dataDir,
    );
    const exports = JSON.parse(recorded.stdout) as {
      event: { unmapped: { paddock: { audit: { events: number } } } };
    }[];
    assert.deepEqual(
      exports.map((e) => e.event.unmapped.paddock.audit.events),
      [22, 0],
    );
  });
});
