import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSinks, type TokenCredentialLike } from '../../../src/audit/index.ts';
import { FAST, sampleEvents, sampleNumber, type StandInReceiver, startReceiver, until } from './support.ts';

// The HTTP sinks against local stand-in receivers that check each product's documented wire
// format (paths, headers, auth, body shape, gzip), and their answers: success, retry, reject.

let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'paddock-sinks-http-'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

function deadLetters(name: string): { reason: string; event: unknown }[] {
  const text = readFileSync(join(dataDir, 'audit', 'dead-letter', `${name}.jsonl`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('Splunk HEC sink (local stand-in receiver)', () => {
  let hec: StandInReceiver;
  before(async () => {
    hec = await startReceiver();
  });
  after(() => hec.close());

  it('posts batched event envelopes to /services/collector/event with the Splunk token', async () => {
    hec.requests.length = 0;
    hec.respond = (request, response) => {
      // What a HEC checks: path, token scheme, JSON event envelopes back to back.
      const ok =
        request.url === '/services/collector/event' && request.headers.authorization === 'Splunk hec-token-1';
      response.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      response.end(ok ? '{"text":"Success","code":0}' : '{"text":"Invalid token","code":4}');
    };
    const sinks = await createSinks(
      [
        {
          type: 'splunk-hec',
          name: 'splunk',
          url: hec.url,
          tokenEnv: 'HEC_TOKEN',
          index: 'security',
          delivery: { ...FAST, batchSize: 10 },
        },
      ],
      { dataDir, env: { HEC_TOKEN: 'hec-token-1' } },
    );
    const events = sampleEvents(25);
    for (const event of events) sinks.enqueue(event);
    await until(() => sinks.stats()['splunk']?.delivered === 25, 10_000, 'HEC delivery');
    await sinks.close();
    assert.equal(hec.requests.length, 3, 'batches of 10, 10 and 5');
    const received = hec.requests.flatMap((request) => {
      assert.equal(request.method, 'POST');
      assert.equal(request.headers['content-type'], 'application/json');
      return request.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    });
    assert.equal(received.length, 25);
    received.forEach((envelope, n) => {
      assert.deepEqual(Object.keys(envelope).sort(), [
        'event',
        'host',
        'index',
        'source',
        'sourcetype',
        'time',
      ]);
      assert.equal(envelope.time, (events[n]?.time ?? 0) / 1000, 'epoch seconds');
      assert.equal(envelope.source, 'paddock');
      assert.equal(envelope.sourcetype, 'paddock:ocsf');
      assert.equal(envelope.index, 'security');
      assert.deepEqual(envelope.event, events[n], 'the OCSF event intact, in order');
    });
  });

  it('retries 503 and 429 (honouring Retry-After) and dead-letters 400, 401 and 403', async () => {
    const statuses = [503, 429, 200, 400, 401, 403];
    hec.requests.length = 0;
    hec.respond = (_request, response) => {
      const status = statuses.shift() ?? 200;
      response.writeHead(status, status === 429 ? { 'retry-after': '0' } : {});
      response.end(status === 200 ? '{"text":"Success","code":0}' : '{"text":"nope"}');
    };
    const sinks = await createSinks(
      [
        {
          type: 'splunk-hec',
          name: 'splunk-faults',
          url: `${hec.url}/services/collector/event`,
          tokenEnv: 'T',
          gzip: true,
          delivery: { ...FAST, batchSize: 1 },
        },
      ],
      { dataDir, env: { T: 'tok' } },
    );
    for (const event of sampleEvents(4)) sinks.enqueue(event);
    await until(
      () => {
        const s = sinks.stats()['splunk-faults'];
        return (s?.delivered ?? 0) + (s?.deadLettered ?? 0) === 4;
      },
      10_000,
      'all four settled',
    );
    await sinks.close();
    const stats = sinks.stats()['splunk-faults'];
    assert.deepEqual(
      { ...stats },
      { delivered: 1, retried: 2, deadLettered: 3, queued: 0, rejectedByCollector: 0, lost: 0 },
    );
    assert.equal(hec.requests[0]?.headers['content-encoding'], 'gzip', 'gzip when asked');
    const dead = deadLetters('splunk-faults');
    assert.deepEqual(
      dead.map((line) => line.reason.replace(/.*HTTP /, '')),
      ['400', '401', '403'],
    );
    assert.deepEqual(
      dead.map((line) => sampleNumber(line.event)),
      [1, 2, 3],
    );
  });

  it('refuses to start without its token variable', async () => {
    await assert.rejects(
      createSinks([{ type: 'splunk-hec', name: 'no-token', url: hec.url, tokenEnv: 'UNSET_TOKEN' }], {
        dataDir,
        env: {},
      }),
      { code: 'PDK_AUDIT_SINK_CONFIG' },
    );
  });
});

describe('OTLP/HTTP logs sink (local stand-in collector)', () => {
  it('posts ExportLogsServiceRequest JSON to /v1/logs: eventName is the class name, body the event', async () => {
    const collector = await startReceiver();
    try {
      collector.respond = (request, response) => {
        const ok = request.url === '/v1/logs' && request.headers['content-type'] === 'application/json';
        response.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
        // A collector may accept a request but drop some records: partial success.
        response.end(
          JSON.stringify(
            ok ? { partialSuccess: { rejectedLogRecords: '1', errorMessage: 'one dropped' } } : {},
          ),
        );
      };
      const sinks = await createSinks(
        [
          {
            type: 'otlp',
            name: 'otel',
            url: `${collector.url}/v1/logs`,
            headersEnv: 'OTLP_HEADERS',
            delivery: FAST,
          },
        ],
        { dataDir, env: { OTLP_HEADERS: 'x-tenant=blue,authorization=Bearer%20abc' } },
      );
      const events = sampleEvents(3);
      for (const event of events) sinks.enqueue(event);
      await until(() => collector.requests.length === 1, 10_000, 'OTLP post');
      await sinks.close();
      const [request] = collector.requests;
      assert.equal(request?.headers['x-tenant'], 'blue');
      assert.equal(request?.headers.authorization, 'Bearer abc');
      const body = JSON.parse(request?.body ?? '{}');
      const [resourceLogs] = body.resourceLogs;
      assert.deepEqual(resourceLogs.resource.attributes[0], {
        key: 'service.name',
        value: { stringValue: 'paddock' },
      });
      const records = resourceLogs.scopeLogs[0].logRecords;
      assert.equal(resourceLogs.scopeLogs[0].scope.name, 'paddock.audit');
      assert.equal(records.length, 3);
      records.forEach((record: Record<string, unknown>, n: number) => {
        const event = events[n] as (typeof events)[number];
        assert.equal(record['timeUnixNano'], `${event.time}000000`, 'nanoseconds as a decimal string');
        assert.equal(record['eventName'], 'HTTP Activity');
        assert.equal(record['severityNumber'], event.severity_id === 2 ? 10 : 9);
        const attrs = Object.fromEntries(
          (record['attributes'] as { key: string; value: Record<string, string> }[]).map((a) => [
            a.key,
            Object.values(a.value)[0],
          ]),
        );
        assert.deepEqual(attrs, {
          'ocsf.class_uid': '4002',
          'ocsf.event_code': event.metadata.event_code,
          'ocsf.uid': event.metadata.uid,
          'paddock.workspace': 'ws-alice-01',
        });
        assert.deepEqual(fromAnyValue(record['body']), event, 'body is the whole event as a kvlist');
      });
      assert.deepEqual(
        { ...sinks.stats()['otel'] },
        { delivered: 2, retried: 0, deadLettered: 0, queued: 0, rejectedByCollector: 1, lost: 0 },
      );
    } finally {
      await collector.close();
    }
  });
});

/** Decodes an OTLP AnyValue back into JSON (the receiver's view). */
function fromAnyValue(value: unknown): unknown {
  const v = value as Record<string, unknown>;
  if ('stringValue' in v) return v['stringValue'];
  if ('boolValue' in v) return v['boolValue'];
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return v['doubleValue'];
  if ('arrayValue' in v) return ((v['arrayValue'] as { values: unknown[] }).values ?? []).map(fromAnyValue);
  if ('kvlistValue' in v)
    return Object.fromEntries(
      (v['kvlistValue'] as { values: { key: string; value: unknown }[] }).values.map((kv) => [
        kv.key,
        fromAnyValue(kv.value),
      ]),
    );
  return null;
}

describe('Azure Monitor Logs Ingestion sink (local stand-in endpoint, stand-in token credential)', () => {
  it('posts gzip JSON arrays to the DCR stream with a bearer token, under 1 MB per call, no duplicates on retry', async () => {
    const dce = await startReceiver();
    try {
      const path =
        '/dataCollectionRules/dcr-00000000000000000000000000000000/streams/Custom-PaddockOCSF?api-version=2023-01-01';
      let calls = 0;
      dce.respond = (request, response) => {
        calls += 1;
        assert.ok(request.raw.length <= 1_000_000, 'a call stays under the 1 MB limit');
        const ok =
          request.url === path &&
          request.headers.authorization === `Bearer token-${tokens}` &&
          request.headers['content-encoding'] === 'gzip' &&
          request.headers['content-type'] === 'application/json' &&
          Buffer.byteLength(request.body) <= 1_000_000;
        // The second call fails once with 401 (token expired): the sink must fetch a new token.
        const status = calls === 2 ? 401 : ok ? 204 : 400;
        response.writeHead(status);
        response.end();
      };
      let tokens = 0;
      // Stand-in for @azure/identity's TokenCredential (no Entra ID here); records the scope asked for.
      const scopes: string[] = [];
      const credential: TokenCredentialLike = {
        getToken: async (scope) => {
          scopes.push(scope);
          tokens += 1;
          return { token: `token-${tokens}`, expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
      const sinks = await createSinks(
        [
          {
            type: 'azure-monitor',
            name: 'sentinel',
            endpoint: dce.url,
            ruleId: 'dcr-00000000000000000000000000000000',
            stream: 'Custom-PaddockOCSF',
            delivery: { ...FAST, batchSize: 2000 },
          },
        ],
        { dataDir, azureCredentials: { sentinel: credential } },
      );
      // ~1.5 KB per row with a padded message: 2000 rows must be split into several calls.
      const events = sampleEvents(2000).map((event) => ({
        ...event,
        message: `${event['message'] ?? ''}${'x'.repeat(1200)}`,
      }));
      for (const event of events) sinks.enqueue(event);
      await until(() => sinks.stats()['sentinel']?.delivered === 2000, 20_000, 'Azure delivery');
      await sinks.close();
      assert.ok(dce.requests.length >= 4, `split into several calls (${dce.requests.length})`);
      assert.deepEqual([...new Set(scopes)], ['https://monitor.azure.com/.default']);
      assert.equal(tokens, 2, 'a 401 fetched a fresh token');
      const accepted = dce.requests.filter((_, i) => i !== 1).flatMap((request) => JSON.parse(request.body));
      assert.deepEqual(
        accepted.map((row: { Event: unknown }) => sampleNumber(row.Event)),
        events.map((_, n) => n),
        'every event once, in order (the retried call resent only itself)',
      );
      const row = accepted[0];
      assert.deepEqual(Object.keys(row).sort(), [
        'ClassName',
        'ClassUid',
        'Event',
        'EventCode',
        'EventUid',
        'SeverityId',
        'TimeGenerated',
        'Workspace',
      ]);
      assert.equal(row.TimeGenerated, new Date(events[0]?.time ?? 0).toISOString());
      assert.equal(row.ClassName, 'HTTP Activity');
    } finally {
      await dce.close();
    }
  });

  it('builds a ClientSecretCredential from the secret variable (and refuses without tenant and client)', async () => {
    const { azureCredential } = await import('../../../src/audit/sinks/azure-monitor.ts');
    const base = {
      type: 'azure-monitor' as const,
      name: 'az',
      endpoint: 'https://dce.example',
      ruleId: 'r',
      stream: 's',
      clientSecretEnv: 'AZ_SECRET',
    };
    const credential = await azureCredential(
      { ...base, tenantId: 'tenant-1', clientId: 'client-1' },
      { AZ_SECRET: 's3cret' },
    );
    assert.equal(credential.constructor.name, 'ClientSecretCredential');
    await assert.rejects(azureCredential(base, { AZ_SECRET: 's3cret' }), { code: 'PDK_AUDIT_SINK_CONFIG' });
    const fallback = await azureCredential({ ...base, clientSecretEnv: undefined }, {});
    assert.equal(fallback.constructor.name, 'DefaultAzureCredential');
  });
});
