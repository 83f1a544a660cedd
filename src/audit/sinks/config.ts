import { parseDurationMs } from '../../core/clock.ts';

// The sink settings as the audit layer reads them: the shape of paddock.yaml's
// `spec.audit.sinks` (config's auditSink schema, which applies the defaults). The audit layer
// may not import config, so the shape is restated here; test/audit/sinks keeps the two equal.

export interface SinkDeliveryConfig {
  readonly batchSize?: number;
  /** A duration such as `1s`. */
  readonly batchWait?: string;
  readonly queueSize?: number;
  readonly retries?: number;
  readonly backoff?: string;
  readonly maxBackoff?: string;
  readonly deadLetter?: string | undefined;
}

interface SinkBase {
  readonly name: string;
  readonly delivery?: SinkDeliveryConfig;
}

export interface JsonlSinkConfig extends SinkBase {
  readonly type: 'jsonl';
  readonly path: string;
  readonly maxBytes?: number;
  readonly daily?: boolean;
  readonly keep?: number;
}

export interface SyslogSinkConfig extends SinkBase {
  readonly type: 'syslog';
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  readonly caFile?: string | undefined;
  readonly serverName?: string | undefined;
  readonly facility?: number;
}

export interface SplunkHecSinkConfig extends SinkBase {
  readonly type: 'splunk-hec';
  readonly url: string;
  readonly tokenEnv: string;
  readonly index?: string | undefined;
  readonly sourcetype?: string;
  readonly gzip?: boolean;
}

export interface AzureMonitorSinkConfig extends SinkBase {
  readonly type: 'azure-monitor';
  readonly endpoint: string;
  readonly ruleId: string;
  readonly stream: string;
  readonly tenantId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecretEnv?: string | undefined;
}

export interface OtlpSinkConfig extends SinkBase {
  readonly type: 'otlp';
  readonly url: string;
  readonly headersEnv?: string | undefined;
  readonly gzip?: boolean;
}

export type SinkConfig =
  | JsonlSinkConfig
  | SyslogSinkConfig
  | SplunkHecSinkConfig
  | AzureMonitorSinkConfig
  | OtlpSinkConfig;

/** Delivery settings with every default applied, durations in milliseconds. */
export interface DeliverySettings {
  readonly batchSize: number;
  readonly batchWaitMs: number;
  readonly queueSize: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly deadLetter: string | undefined;
}

function ms(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDurationMs(text) ?? fallback);
}

/** The defaults are the schema's (docs/audit-sinks.md). */
export function deliverySettings(config: SinkDeliveryConfig | undefined): DeliverySettings {
  return {
    batchSize: config?.batchSize ?? 100,
    batchWaitMs: ms(config?.batchWait, 1000),
    queueSize: config?.queueSize ?? 100_000,
    retries: config?.retries ?? 10,
    backoffMs: ms(config?.backoff, 500),
    maxBackoffMs: ms(config?.maxBackoff, 60_000),
    deadLetter: config?.deadLetter,
  };
}
