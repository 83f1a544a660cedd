// The audit pipeline as `paddock up` wires it, end to end with real processes: a workspace
// terminal's decisions are recorded by its supervisor (redacted, spooled, fsync'd), shipped
// over the channel into the central store under the workspace's own source, checkpointed and
// signed, verified by `paddock audit verify`, found by `paddock audit search`, and written
// by the JSONL sink. Then the supervisor is killed (-9) with events not yet shipped: after the
// provider restarts it, every durable event is in the store exactly once.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CheckpointBody, recordHash } from '../../../src/audit/index.ts';
import { requireValidRepository } from '../../../src/config/index.ts';
import {
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../../src/controlplane/local-control-plane.ts';
import type { AuditEventRecord } from '../../../src/controlplane/store/store.ts';
import { runCli } from '../../cli/commands/run-cli.ts';
import { collect } from '../../support/terminal-output.ts';

const CONFIG_DIR = resolve(import.meta.dirname, '../../../examples/platform');
const ALICE = 'alice@example.com';
const WS = 'ws-alice';
const GATED = '/etc/paddock-try POST https://api.github.com/repos/acme/app/pulls';
const PLAIN = '/etc/paddock-try GET https://api.github.com/';
const CANARY = 'PassWord-canary-7731';

interface SpooledRecord {
  readonly seq: number;
  readonly hash: string;
  readonly event: { readonly metadata: { readonly uid: string } };
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Whether a signed checkpoint's heads cover `source` up to `seq`. */
async function checkpointCovers(plane: LocalControlPlane, source: string, seq: number): Promise<boolean> {
  const checkpoints = await plane.store.listAuditCheckpoints({});
  return checkpoints.some((checkpoint) =>
    (JSON.parse(checkpoint.body) as CheckpointBody).heads.some((h) => h.source === source && h.seq >= seq),
  );
}

const eventCode = (record: AuditEventRecord) =>
  (record.event as { metadata: { event_code: string } }).metadata.event_code;
const uidOf = (record: AuditEventRecord) => (record.event as { metadata: { uid: string } }).metadata.uid;

describe('audit pipeline in the local control plane (real supervisor, store, checkpoints, sink)', () => {
  // Under /tmp: sandboxes must be able to traverse to the workspace's home (docs/workspaces.md).
  const dataDir = mkdtempSync('/tmp/paddock-audit-e2e-');
  const spoolDir = join(dataDir, 'workspaces', WS, 'audit-spool');
  let plane: LocalControlPlane;

  before(async () => {
    const { state } = await requireValidRepository(CONFIG_DIR);
    plane = await startLocalControlPlane({
      state,
      configDir: CONFIG_DIR,
      dataDir,
      port: 0,
      auditCheckpointMs: 300,
    });
  });
  after(async () => {
    await plane?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A terminal of alice's workspace, and a way to run one command and read what it printed. */
  async function shell(attachId: string) {
    const terminal = await plane.channel
      .target(WS)
      .open({ cols: 400, rows: 24, mode: 'shell', userId: ALICE, attachId });
    const output = collect(terminal);
    let runs = 0;
    const run = async (command: string) => {
      const n = ++runs;
      const start = output.text.length;
      terminal.write(`${command}; echo "status=$? end-$((${n}*1000))"\n`);
      await output.until(new RegExp(`status=\\d+ end-${n * 1000}\\r`), 30_000);
      return output.text.slice(start);
    };
    return { terminal, output, run };
  }

  /** Every complete record in the spool's segments now (a torn last line is not durable). */
  function spooled(): SpooledRecord[] {
    return readdirSync(spoolDir)
      .filter((file) => file.startsWith('segment-'))
      .sort()
      .flatMap((file) => {
        const text = readFileSync(join(spoolDir, file), 'utf8');
        return text
          .slice(0, text.lastIndexOf('\n') + 1)
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as SpooledRecord);
      });
  }

  it("a terminal's decisions reach the store under the workspace's source, checkpointed, searchable, in the sink", async () => {
    const { terminal, run } = await shell('audit-e2e');
    assert.match(await run(GATED), /held for review rv-[0-9a-f]+: waiting/);
    assert.match(await run(PLAIN), /\r(allowed|denied: [^\r]*)\r\n/);
    // The blueprint (coding-base) redacts "password": the supervisor's exit redaction applies
    // before the spool, so the word never reaches the store or a sink.
    await run(`/etc/paddock-try ls ${CANARY}`);
    terminal.close();

    // Within seconds: the decisions are in the store, in the workspace's chain.
    const records = await waitFor('decisions of ws-alice in the store', async () => {
      const stored = await plane.store.readAuditEvents({ source: WS, limit: 10_000 });
      const resources = stored.map((record) => JSON.stringify(record.event));
      return resources.some((text) => text.includes('/repos/acme/app/pulls')) &&
        resources.some((text) => /"GET"|GET https:\/\/api\.github\.com/.test(text)) &&
        resources.some((text) => text.includes('canary-7731'))
        ? stored
        : undefined;
    });
    assert.deepEqual(
      records.map((record) => record.seq),
      records.map((_, i) => i + 1),
      'one contiguous chain from seq 1',
    );
    for (const [i, record] of records.entries()) {
      assert.equal(record.source, WS);
      assert.equal(record.prevHash, i === 0 ? '0'.repeat(64) : records[i - 1]?.hash);
      assert.equal(recordHash(record.seq, record.time, record.prevHash, record.event), record.hash);
    }
    assert.ok(records.some((record) => eventCode(record) === 'supervisor.started'));
    const stored = JSON.stringify(records.map((record) => record.event));
    assert.match(stored, /\[REDACTED\]-canary-7731/, 'the canary command was recorded, redacted');
    assert.doesNotMatch(stored, /password-canary/i);
    const decisions = records.filter((record) => JSON.stringify(record.event).includes('api.github.com'));
    assert.ok(decisions.length >= 2, `decision events: ${decisions.map(eventCode).join(', ')}`);
    for (const record of decisions)
      assert.equal((record.event as { device?: { uid?: string } }).device?.uid, WS, eventCode(record));

    // A signed checkpoint covers them.
    const head = records.at(-1) as AuditEventRecord;
    await waitFor('a checkpoint covering ws-alice', () => checkpointCovers(plane, WS, head.seq));
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir, '--json'], dataDir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const verified = JSON.parse(verify.stdout);
    assert.equal(verified.ok, true);
    assert.ok(verified.checkpoints >= 1);

    // `paddock audit search --workspace` finds them.
    const search = await runCli(
      ['audit', 'search', '--data-dir', dataDir, '--workspace', WS, '--limit', '10000', '--json'],
      dataDir,
    );
    assert.equal(search.code, 0, search.stderr);
    const found = JSON.parse(search.stdout) as { source: string; uid: string }[];
    for (const record of decisions)
      assert.ok(
        found.some((hit) => hit.uid === uidOf(record) && hit.source === WS),
        `search finds ${eventCode(record)} ${uidOf(record)}`,
      );

    // The JSONL sink (examples/platform/paddock.yaml) has them, fed from the store.
    const sinkFile = join(dataDir, 'audit', 'paddock-ocsf.jsonl');
    await waitFor('the decisions in the JSONL sink', () => {
      if (!existsSync(sinkFile)) return undefined;
      const text = readFileSync(sinkFile, 'utf8');
      // The redacted command is the chain's last decision: the sink is fed in order, so wait for it too.
      return (
        (decisions.every((record) => text.includes(uidOf(record))) && text.includes('canary-7731')) ||
        undefined
      );
    });
    // The control plane's own events are there too (the workspace's creation and start).
    const sinkText = readFileSync(sinkFile, 'utf8');
    assert.match(sinkText, /"event_code":"workspace\.started"/);
    assert.match(sinkText, /\[REDACTED\]-canary-7731/);
    assert.doesNotMatch(sinkText, /password-canary/i);
  });

  it('kill -9 of the supervisor with unshipped events: after the restart every durable event arrives exactly once', async () => {
    const pid = plane.supervisorPid(WS);
    assert.ok(pid, 'the supervisor runs');
    const { terminal, output } = await shell('audit-kill');
    // Decisions keep coming; the supervisor dies in the middle of them.
    terminal.write(`for i in $(seq 1 40); do ${PLAIN}; echo "done-$i"; done\n`);
    await output.until(/done-3\r/, 30_000);
    // Kill it the moment its spool holds durable events the control plane has not acknowledged.
    const acknowledged = () =>
      (JSON.parse(readFileSync(join(spoolDir, 'acknowledged.json'), 'utf8')) as { seq: number }).seq;
    const deadline = Date.now() + 20_000;
    while ((spooled().at(-1)?.seq ?? 0) <= acknowledged() && Date.now() < deadline)
      await new Promise((done) => setTimeout(done, 2));
    process.kill(pid, 'SIGKILL');
    const atKill = spooled();
    const lastAtKill = atKill.at(-1) as SpooledRecord;
    assert.ok(
      lastAtKill.seq > acknowledged(),
      `events were still unshipped (spooled ${lastAtKill.seq}, acknowledged ${acknowledged()})`,
    );
    await output.exit;

    // The provider restarts the supervisor, which ships what its spool holds.
    await waitFor('a restarted supervisor', () => {
      const next = plane.supervisorPid(WS);
      return next !== undefined && next !== pid && plane.channel.isConnected(WS) ? next : undefined;
    });
    const stored = await waitFor('the durable events in the store', async () => {
      const records = await plane.store.readAuditEvents({ source: WS, limit: 10_000 });
      return (records.at(-1)?.seq ?? 0) >= lastAtKill.seq ? records : undefined;
    });
    assert.deepEqual(
      stored.map((record) => record.seq),
      stored.map((_, i) => i + 1),
      'no gap, no duplicate seq',
    );
    const uids = stored.map(uidOf);
    assert.equal(new Set(uids).size, uids.length, 'no event stored twice');
    for (const record of atKill) {
      const match = stored.filter((s) => uidOf(s) === record.event.metadata.uid);
      assert.equal(match.length, 1, `durable seq ${record.seq} stored exactly once`);
      assert.equal(match[0]?.seq, record.seq);
      assert.equal(match[0]?.hash, record.hash);
    }
    const restarted = await plane.store.readAuditEvents({ source: 'controlplane', limit: 10_000 });
    assert.ok(restarted.some((record) => eventCode(record) === 'supervisor.restarted'));
    await waitFor('a checkpoint after the restart', () => checkpointCovers(plane, WS, lastAtKill.seq));
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir], dataDir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
