import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSinks, type OcsfEvent, type TokenCredentialLike } from '../../../src/audit/index.ts';
import { egressLoggingFromBlueprint } from '../../../src/supervisor/egress/index.ts';
import { supervisorEventRedactor } from '../../../src/supervisor/audit-redaction.ts';
import { startHttpTestServer } from '../../supervisor/fixtures/mcp-test-server.ts';
import {
  makeSecretStore,
  startGateway as startEgressGateway,
  startUpstream,
  tlsRequest,
} from '../../supervisor/egress-fixtures.ts';
import { httpPlan, startGateway as startMcpGateway } from '../../supervisor/mcp-support.ts';
import { makeTestCertificates, type Rsyslog, rsyslogOutput, startRsyslogDaemon } from './rsyslog.ts';
import { FAST, type StandInReceiver, startReceiver, stopProcess, until } from './support.ts';

// Issue 7 item 4: a canary secret never reaches any sink. Real supervisor components make the
// events — the egress gateway injecting a credential (the canary secret) and forwarding a URL
// whose query carries a canary the blueprint's logging says to redact, and the MCP gateway
// forwarding a tool call whose arguments carry it — and each event leaves through the
// supervisor's exit redaction (the same function `paddock run` uses) into every sink type:
// JSONL, a real rsyslog over TLS, and the Splunk, Azure and OTLP stand-in receivers, plus a
// sink that rejects everything, so dead-letter files are written too. No byte anywhere may
// hold a canary: sink output, request bytes (gunzipped), dead-letter files, logs.

const CANARY_SECRET = 'pdk-canary-secret-6f1d2c9a8b7e4d3c2b1a0f9e8d7c6b5a';
const CANARY_QUERY = 'canary-q-3e5f7a9b1c2d4e6f';
const LOGGING = { toolArguments: 'redacted' as const, redact: ['canary-q-[0-9a-f]{16}'], retention: '365d' };

let dir: string;
let rsyslog: Rsyslog;
const receivers: StandInReceiver[] = [];
const stderr: string[] = [];
/** Closers of everything the test started, run in after() even when an assertion fails. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const originalWrite = process.stderr.write.bind(process.stderr);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-canary-'));
  makeTestCertificates(dir);
  rsyslog = await startRsyslogDaemon(dir, 'rsyslog', true);
  // Every log line written while the test runs (the sinks log to stderr) is scanned too.
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (originalWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
});
after(async () => {
  process.stderr.write = originalWrite;
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  await stopProcess(rsyslog.process);
  for (const receiver of receivers) await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => {
    const path = join(root, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

describe('redaction before events leave the supervisor (canary)', () => {
  it('no canary reaches any sink, dead-letter file or log', async () => {
    // 1. Real traffic through the supervisor's gateways; events collected as they are emitted.
    const secrets = await makeSecretStore({ 'github-pat': CANARY_SECRET });
    cleanups.push(() => secrets.remove());
    const upstream = await startUpstream({ tls: true });
    cleanups.push(() => upstream.close());
    const egress = await startEgressGateway({
      services: [
        {
          name: 'github',
          hosts: ['api.github.test'],
          ports: [upstream.port],
          access: 'read-only',
          credential: 'github-pat',
          cidrs: ['127.0.0.0/8'],
        },
      ],
      names: { 'api.github.test': ['127.0.0.1'] },
      secrets: secrets.store,
      logging: egressLoggingFromBlueprint(LOGGING),
    });
    cleanups.push(() => egress.close());
    const placeholder = egress.gateway.credentialEnv()['PADDOCK_CREDENTIAL_GITHUB_PAT'] ?? '';
    const authority = `api.github.test:${upstream.port}`;
    for (const path of [`/repos?token=${CANARY_QUERY}`, `/reflect-auth?q=${CANARY_QUERY}`])
      await tlsRequest(
        egress.ports.httpProxy,
        authority,
        'api.github.test',
        `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nAuthorization: Bearer ${placeholder}\r\nUser-Agent: agent ${CANARY_QUERY}\r\nConnection: close\r\n\r\n`,
        egress.ca.certPem,
      );
    // The gateway really injected the canary secret upstream: the test would prove nothing otherwise.
    assert.ok(upstream.requests.some((r) => r.headers.authorization === `Bearer ${CANARY_SECRET}`));

    const mcpServer = await startHttpTestServer();
    cleanups.push(() => mcpServer.close());
    const mcp = await startMcpGateway({
      servers: [httpPlan('github', mcpServer.url)],
      logging: { toolArguments: 'redacted', redact: LOGGING.redact },
    });
    cleanups.push(() => mcp.close());
    const client = await mcp.client();
    await client.callTool({
      name: 'github__echo',
      arguments: { text: `hello ${CANARY_QUERY}`, token: CANARY_SECRET },
    });
    await client.callTool({ name: 'github__read_file', arguments: { path: `/etc/${CANARY_QUERY}` } });

    const produced: OcsfEvent[] = [...egress.events, ...mcp.events];
    assert.ok(produced.length >= 4, `the components emitted events (${produced.length})`);
    // An event a builder got wrong: the secret and canary in fields no builder redacts. The
    // exit redaction must catch these too.
    const leaky = {
      ...(produced[0] as OcsfEvent),
      message: `leaked ${CANARY_SECRET} and ${CANARY_QUERY}`,
      unmapped: { paddock: { [CANARY_SECRET]: [`x ${CANARY_QUERY}`] } },
    };
    produced.push(leaky);
    assert.ok(JSON.stringify(produced).includes(CANARY_SECRET), 'the unredacted stream does hold the canary');

    // 2. The supervisor's exit redaction, as paddock run builds it.
    const redact = await supervisorEventRedactor({
      logging: LOGGING,
      secrets: secrets.store,
      credentialNames: ['github-pat'],
    });

    // 3. Every sink type at once, plus one that rejects everything (dead letters).
    const hec = await startReceiver();
    const otlp = await startReceiver();
    const dce = await startReceiver();
    dce.respond = (_request, response) => {
      response.writeHead(204);
      response.end();
    };
    const rejecting = await startReceiver();
    rejecting.respond = (_request, response) => {
      response.writeHead(400);
      response.end('{"text":"Invalid data format","code":6}');
    };
    receivers.push(hec, otlp, dce, rejecting);
    const credential: TokenCredentialLike = {
      getToken: async () => ({ token: 'stand-in-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const sinks = await createSinks(
      [
        { type: 'jsonl', name: 'file', path: 'audit/ocsf.jsonl', maxBytes: 4096, delivery: FAST },
        {
          type: 'syslog',
          name: 'rsyslog',
          host: 'localhost',
          port: rsyslog.port,
          tls: true,
          caFile: join(dir, 'ca.pem'),
          delivery: FAST,
        },
        { type: 'splunk-hec', name: 'splunk', url: hec.url, tokenEnv: 'HEC', gzip: true, delivery: FAST },
        { type: 'otlp', name: 'otel', url: `${otlp.url}/v1/logs`, delivery: FAST },
        {
          type: 'azure-monitor',
          name: 'sentinel',
          endpoint: dce.url,
          ruleId: 'dcr-1',
          stream: 'Custom-PaddockOCSF',
          delivery: FAST,
        },
        { type: 'splunk-hec', name: 'rejecting', url: rejecting.url, tokenEnv: 'HEC', delivery: FAST },
      ],
      {
        dataDir: dir,
        env: { HEC: 'hec-token' },
        azureCredentials: { sentinel: credential },
        onSystemEvent: () => {},
      },
    );
    cleanups.push(() => sinks.close(100));
    for (const event of produced) sinks.enqueue(redact(event));
    const total = produced.length;
    await until(
      () =>
        ['file', 'rsyslog', 'splunk', 'otel', 'sentinel'].every(
          (name) => sinks.stats()[name]?.delivered === total,
        ) && sinks.stats()['rejecting']?.deadLettered === total,
      15_000,
      'every sink settled',
    );
    await sinks.close();
    await until(() => rsyslogOutput(rsyslog).split('\n').length > total, 10_000, 'rsyslog wrote everything');

    // 4. Scan every byte.
    const places: [string, string][] = [
      ['rsyslog output', rsyslogOutput(rsyslog)],
      ...[hec, otlp, dce, rejecting].flatMap((r, i) =>
        r.requests.flatMap((q): [string, string][] => [
          [`receiver ${i} body`, q.body],
          [`receiver ${i} wire`, q.raw.toString('latin1')],
          [`receiver ${i} headers`, JSON.stringify(q.headers)],
        ]),
      ),
      ...filesUnder(join(dir, 'audit')).map((file): [string, string] => [file, readFileSync(file, 'utf8')]),
      ['sink and process logs', stderr.join('')],
      ['egress gateway logs', egress.logs.join('')],
      ['mcp gateway logs', mcp.logs.join('')],
    ];
    assert.ok(
      filesUnder(join(dir, 'audit', 'dead-letter')).length === 1,
      'the rejecting sink wrote a dead-letter file',
    );
    assert.ok(statSync(join(dir, 'audit', 'ocsf.jsonl')).size > 0);
    for (const [where, text] of places) {
      assert.ok(text.length > 0 || where.includes('logs'), `${where} is not empty`);
      for (const canary of [CANARY_SECRET, CANARY_QUERY])
        assert.ok(!text.includes(canary), `a canary (${canary.slice(0, 16)}…) reached ${where}`);
    }
    // And the redaction left a mark rather than dropping events.
    assert.ok(
      readFileSync(join(dir, 'audit', 'ocsf.jsonl'), 'utf8').includes('[REDACTED]') ||
        rsyslogOutput(rsyslog).includes('[REDACTED]'),
    );
  });
});
