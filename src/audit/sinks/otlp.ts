import { PaddockError } from '../../core/errors.ts';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../../core/version.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { OtlpSinkConfig } from './config.ts';
import { postBatch } from './http-post.ts';
import type { DeliveryReport, SinkTransport } from './runner.ts';
import { className, otelSeverity, workspaceOf } from './severity.ts';

// OpenTelemetry logs over OTLP/HTTP with the JSON encoding: POST {url} (…/v1/logs) with
// Content-Type application/json, an ExportLogsServiceRequest of one resourceLogs → one
// scopeLogs → a logRecord per event. Per the OTLP JSON mapping, 64-bit integers
// (timeUnixNano, intValue) are decimal strings and enums are numbers. Each record carries:
//   eventName      the OCSF class name ("HTTP Activity"), as the issue asks
//   body           the whole OCSF event as a kvlistValue (structured, lossless for JSON;
//                  the OTel event conventions put an event's payload in the body as a map)
//   attributes     ocsf.class_uid, ocsf.event_code, ocsf.uid, paddock.workspace
//   severityNumber from the OCSF severity (severity.ts)
// A 200 with partialSuccess.rejectedLogRecords > 0 is not retried (the spec forbids it): the
// count goes to the sink's stats and log.

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** A JSON value as an OTLP AnyValue. */
export function anyValue(value: unknown): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  if (typeof value === 'object' && value !== null)
    return {
      kvlistValue: {
        values: Object.entries(value)
          .filter(([, member]) => member !== undefined)
          .map(([key, member]) => ({ key, value: anyValue(member) })),
      },
    };
  return {};
}

function attribute(key: string, value: string | number | undefined): KeyValue[] {
  if (value === undefined) return [];
  return [{ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } }];
}

/** Extra headers from `name=value,name2=value2` (OTEL_EXPORTER_OTLP_HEADERS style). */
function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim()).toLowerCase()] = decodeURIComponent(
      pair.slice(at + 1).trim(),
    );
  }
  return headers;
}

export function otlpLogsRequest(events: readonly OcsfEvent[], observedMs: number): unknown {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: PRODUCT_NAME.toLowerCase() } },
            { key: 'service.version', value: { stringValue: PRODUCT_VERSION } },
          ],
        },
        scopeLogs: [
          {
            scope: { name: 'paddock.audit', version: PRODUCT_VERSION },
            logRecords: events.map((event) => {
              const severity = otelSeverity(event);
              return {
                timeUnixNano: `${BigInt(Math.trunc(event.time)) * 1_000_000n}`,
                observedTimeUnixNano: `${BigInt(Math.trunc(observedMs)) * 1_000_000n}`,
                severityNumber: severity.number,
                severityText: severity.text,
                eventName: className(event),
                body: anyValue(event),
                attributes: [
                  ...attribute('ocsf.class_uid', event.class_uid),
                  ...attribute('ocsf.event_code', event.metadata.event_code),
                  ...attribute('ocsf.uid', event.metadata.uid),
                  ...attribute('paddock.workspace', workspaceOf(event)),
                ],
              };
            }),
          },
        ],
      },
    ],
  };
}

export class OtlpTransport implements SinkTransport {
  private readonly config: OtlpSinkConfig;
  private readonly headers: Record<string, string>;
  private readonly now: () => number;

  constructor(config: OtlpSinkConfig, env: Readonly<Record<string, string | undefined>>, now: () => number) {
    if (config.headersEnv && env[config.headersEnv] === undefined)
      throw new PaddockError(
        'PDK_AUDIT_SINK_CONFIG',
        `audit sink ${config.name}: environment variable ${config.headersEnv} (its headers) is not set`,
      );
    this.config = config;
    this.headers = {
      ...parseHeaders(config.headersEnv ? env[config.headersEnv] : undefined),
      'content-type': 'application/json',
    };
    this.now = now;
  }

  async deliver(events: readonly OcsfEvent[], signal: AbortSignal): Promise<DeliveryReport | undefined> {
    const text = await postBatch({
      sink: this.config.name,
      url: this.config.url,
      body: JSON.stringify(otlpLogsRequest(events, this.now())),
      headers: this.headers,
      gzip: this.config.gzip ?? false,
      signal,
    });
    let answer: { partialSuccess?: { rejectedLogRecords?: string | number } } = {};
    try {
      answer = text ? JSON.parse(text) : {};
    } catch {
      // A 2xx with a body that is not JSON is still a success; there is no partial count to read.
    }
    const rejected = Number(answer.partialSuccess?.rejectedLogRecords ?? 0);
    return rejected > 0 ? { rejected } : undefined;
  }

  async close(): Promise<void> {}
}
