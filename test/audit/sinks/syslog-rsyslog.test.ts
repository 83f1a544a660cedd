import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSinks, httpDecisionEvent, type OcsfEvent } from '../../../src/audit/index.ts';
import { formatSyslogMessage, frameOctetCounted } from '../../../src/audit/sinks/syslog-format.ts';
import { agent, bundle } from '../event-fixtures.ts';
import { makeTestCertificates, type Rsyslog, rsyslogReceived, startRsyslogDaemon } from './rsyslog.ts';
import { FAST, freePort, sampleEvents, sampleNumber, stopProcess, until } from './support.ts';

// The syslog sink against a real rsyslog from Debian (rsyslogd in the foreground with its own
// config in a temp dir): RFC 5424 over plain TCP and over TLS (RFC 5425, rsyslog's GnuTLS
// driver with a CA made here by openssl), octet-counted framing. rsyslog writes each message
// it parsed to a file with its parsed header fields and the raw message, so the test sees
// exactly what a collector would.

let dir: string;
let tls: { ca: string; otherCa: string };
const daemons: Rsyslog[] = [];

async function startRsyslog(name: string, withTls: boolean, port?: number): Promise<Rsyslog> {
  const daemon = await startRsyslogDaemon(dir, name, withTls, port);
  daemons.push(daemon);
  return daemon;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-rsyslog-'));
  tls = makeTestCertificates(dir);
});
after(async () => {
  for (const daemon of daemons) await stopProcess(daemon.process);
  rmSync(dir, { recursive: true, force: true });
});

/** Events including one whose text spans lines and carries non-ASCII UTF-8. */
function eventsWithMultiline(): OcsfEvent[] {
  const events = sampleEvents(40);
  events.splice(
    7,
    0,
    httpDecisionEvent({
      ...agent,
      bundle,
      decision: 'deny',
      reasonCode: 'host_not_allowed',
      reason: 'first line\nsecond line — naïve café ✓ 🛡️ 日本語\n\tthird "quoted" ] \\ line',
      method: 'GET',
      url: 'https://api.example.com/items?n=999',
    }),
  );
  return events;
}

async function deliverAndCheck(daemon: Rsyslog, sinkTls: boolean): Promise<void> {
  const name = sinkTls ? 'rsyslog-tls' : 'rsyslog-tcp';
  const sinks = await createSinks(
    [
      {
        type: 'syslog',
        name,
        host: sinkTls ? 'localhost' : '127.0.0.1',
        port: daemon.port,
        tls: sinkTls,
        ...(sinkTls ? { caFile: tls.ca } : {}),
        facility: 13,
        delivery: { ...FAST, batchSize: 16 },
      },
    ],
    { dataDir: dir },
  );
  const events = eventsWithMultiline();
  for (const event of events) sinks.enqueue(event);
  await until(() => sinks.stats()[name]?.delivered === events.length, 10_000, 'delivery');
  await sinks.close();
  await until(
    () => rsyslogReceived(daemon).length === events.length,
    10_000,
    `rsyslog to write ${events.length} messages (${daemon.stderr})`,
  );
  const got = rsyslogReceived(daemon);
  assert.deepEqual(
    got.map((m) => m.event),
    events,
    'every event intact and in order',
  );
  assert.deepEqual(
    got.map((m) => sampleNumber(m.event)),
    events.map(sampleNumber),
  );
  for (const [i, message] of got.entries()) {
    const event = events[i] as OcsfEvent;
    // facility 13 (log audit) × 8 + severity: Informational (6) for allow, Notice (5) for deny (Low).
    assert.equal(message.pri, 13 * 8 + (event.severity_id === 2 ? 5 : 6));
    assert.equal(message.appName, 'paddock');
    assert.equal(message.procId, String(process.pid));
    assert.equal(message.msgId, event.metadata.event_code);
    assert.equal(
      message.structuredData,
      `[paddock@32473 uid="${event.metadata.uid}" class_uid="4002" type_uid="${event.type_uid}" severity_id="${event.severity_id}" workspace="ws-alice-01"]`,
    );
    assert.match(message.raw, /^<\d+>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ paddock \d+ \S+ \[/);
  }
  const multiline = got.find((m) => sampleNumber(m.event) === 999);
  assert.equal(
    (multiline?.event as { status_detail?: string } | undefined)?.status_detail,
    'first line\nsecond line — naïve café ✓ 🛡️ 日本語\n\tthird "quoted" ] \\ line',
  );
}

describe('syslog sink (real rsyslog)', () => {
  it('frames RFC 5424 messages with octet counting (MSGLEN counts UTF-8 bytes)', () => {
    const [event] = eventsWithMultiline();
    const message = formatSyslogMessage(event as OcsfEvent, {
      facility: 13,
      hostname: 'host-1',
      procId: '42',
    });
    const frame = frameOctetCounted(`${message}é`);
    const space = frame.indexOf(0x20);
    assert.equal(Number(frame.subarray(0, space).toString('ascii')), frame.length - space - 1);
    assert.ok(
      message.startsWith('<109>1 2026-01-15T09:30:00.000Z host-1 paddock 42 http.denied [paddock@32473 '),
    );
  });

  it('delivers over plain TCP to rsyslog imtcp, in order, a multi-line UTF-8 event intact', async () => {
    const daemon = await startRsyslog('plain', false);
    await deliverAndCheck(daemon, false);
  });

  it('delivers over TLS (RFC 5425) to rsyslog with GnuTLS, verifying the collector against the configured CA', async () => {
    const daemon = await startRsyslog('tls', true);
    await deliverAndCheck(daemon, true);
  });

  it('refuses a TLS collector whose certificate another CA signed: retries, never sends, dead-letters', async () => {
    const daemon =
      daemons.find((d) => d.output.includes(`${join(dir, 'tls')}`)) ?? (await startRsyslog('tls2', true));
    const before = rsyslogReceived(daemon).length;
    const sinks = await createSinks(
      [
        {
          type: 'syslog',
          name: 'wrong-ca',
          host: 'localhost',
          port: daemon.port,
          tls: true,
          caFile: tls.otherCa,
          delivery: { ...FAST, retries: 2 },
        },
      ],
      { dataDir: dir },
    );
    for (const event of sampleEvents(3)) sinks.enqueue(event);
    await until(() => sinks.stats()['wrong-ca']?.deadLettered === 3, 10_000, 'dead-lettered');
    await sinks.close();
    assert.equal(sinks.stats()['wrong-ca']?.delivered, 0);
    assert.equal(sinks.stats()['wrong-ca']?.retried, 2);
    const dead = readFileSync(join(dir, 'audit', 'dead-letter', 'wrong-ca.jsonl'), 'utf8');
    assert.match(dead, /certificate|self-signed|unable to verify/i);
    assert.equal(rsyslogReceived(daemon).length, before, 'rsyslog received nothing');
  });

  it('retries while rsyslog is down and delivers every event once, in order, when it starts', async () => {
    const port = await freePort();
    const sinks = await createSinks(
      [
        {
          type: 'syslog',
          name: 'late-syslog',
          host: '127.0.0.1',
          port,
          delivery: { ...FAST, retries: 1000 },
        },
      ],
      { dataDir: dir },
    );
    const events = sampleEvents(60);
    for (const event of events) sinks.enqueue(event);
    await until(
      () => (sinks.stats()['late-syslog']?.retried ?? 0) >= 2,
      10_000,
      'retries against a closed port',
    );
    const daemon = await startRsyslog('late', false, port);
    await until(() => sinks.stats()['late-syslog']?.delivered === 60, 15_000, 'delivery once rsyslog is up');
    await sinks.close();
    await until(() => rsyslogReceived(daemon).length >= 60, 10_000, 'rsyslog wrote them');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(
      rsyslogReceived(daemon).map((m) => sampleNumber(m.event)),
      events.map(sampleNumber),
    );
  });

  it('stops rsyslogd when done', async () => {
    for (const daemon of daemons) await stopProcess(daemon.process);
    for (const daemon of daemons)
      assert.ok(daemon.process.exitCode !== null || daemon.process.signalCode !== null);
  });
});
