import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { SinkConfig } from '../../../src/audit/index.ts';
import { platformSchema } from '../../../src/config/schema/platform.ts';

// paddock.yaml's sink settings (config's schema) feed createSinks (the audit layer's shape):
// the two must agree, and the example platform file must stay valid.

describe('sink configuration', () => {
  it('parses every sink type with its defaults into the shape createSinks takes', () => {
    const platform = platformSchema.parse({
      apiVersion: 'paddock.dev/v1',
      kind: 'Platform',
      metadata: { name: 'corp' },
      spec: {
        identity: { provider: 'embedded' },
        audit: {
          sinks: [
            { type: 'jsonl', name: 'file', path: 'audit/ocsf.jsonl', daily: true, keep: 30 },
            {
              type: 'syslog',
              name: 'siem',
              host: 'syslog.corp.example',
              port: 6514,
              tls: true,
              caFile: '/etc/paddock/syslog-ca.pem',
            },
            {
              type: 'splunk-hec',
              name: 'splunk',
              url: 'https://splunk.corp.example:8088',
              tokenEnv: 'PADDOCK_HEC_TOKEN',
              index: 'security',
            },
            {
              type: 'azure-monitor',
              name: 'sentinel',
              endpoint: 'https://dce.westeurope-1.ingest.monitor.azure.com',
              ruleId: 'dcr-1',
              stream: 'Custom-PaddockOCSF',
            },
            {
              type: 'otlp',
              name: 'otel',
              url: 'https://otel.corp.example:4318/v1/logs',
              gzip: true,
              delivery: { batchSize: 500, batchWait: '5s' },
            },
          ],
        },
      },
    });
    const sinks: readonly SinkConfig[] = platform.spec.audit.sinks;
    assert.equal(sinks.length, 5);
    assert.deepEqual(sinks[0]?.delivery, {
      batchSize: 100,
      batchWait: '1s',
      queueSize: 100_000,
      retries: 10,
      backoff: '500ms',
      maxBackoff: '1m',
    });
    assert.equal((sinks[1] as { facility: number }).facility, 13);
    assert.equal((sinks[2] as { sourcetype: string }).sourcetype, 'paddock:ocsf');
    assert.equal(sinks[4]?.delivery?.batchSize, 500);
  });

  it('refuses a token given inline instead of an environment variable name, and unknown fields', () => {
    const base = { apiVersion: 'paddock.dev/v1', kind: 'Platform', metadata: { name: 'corp' } };
    const withSink = (sink: unknown) => ({
      ...base,
      spec: { identity: { provider: 'embedded' }, audit: { sinks: [sink] } },
    });
    assert.equal(
      platformSchema.safeParse(
        withSink({ type: 'splunk-hec', name: 's', url: 'https://s:8088', tokenEnv: 'abc-123-secret' }),
      ).success,
      false,
    );
    assert.equal(
      platformSchema.safeParse(withSink({ type: 'otlp', name: 'o', url: 'https://o/v1/logs', token: 'x' }))
        .success,
      false,
    );
  });

  it('keeps the example platform file valid', () => {
    const example = parse(
      readFileSync(new URL('../../../examples/platform/paddock.yaml', import.meta.url), 'utf8'),
    );
    const parsed = platformSchema.safeParse(example);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  });
});
