import { hostname } from 'node:os';
import { PaddockError } from '../../core/errors.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { SplunkHecSinkConfig } from './config.ts';
import { postBatch } from './http-post.ts';
import type { SinkTransport } from './runner.ts';

// Splunk HTTP Event Collector, JSON event endpoint: POST {url}/services/collector/event with
// `Authorization: Splunk <token>`, the batch as event objects one after another
// ({"time","host","source","sourcetype","index"?,"event"}), separated by newlines.
// `time` is epoch seconds with milliseconds. 2xx delivered; 429 and 5xx (503 busy) retried;
// 400 (bad data), 401 and 403 (bad or disabled token) dead-lettered.

export const HEC_PATH = '/services/collector/event';

export function hecEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith(HEC_PATH) ? trimmed : `${trimmed}${HEC_PATH}`;
}

export class SplunkHecTransport implements SinkTransport {
  private readonly config: SplunkHecSinkConfig;
  private readonly token: string;
  private readonly endpoint: string;
  private readonly host = hostname();

  constructor(config: SplunkHecSinkConfig, env: Readonly<Record<string, string | undefined>>) {
    const token = env[config.tokenEnv];
    if (!token)
      throw new PaddockError(
        'PDK_AUDIT_SINK_CONFIG',
        `audit sink ${config.name}: environment variable ${config.tokenEnv} (the HEC token) is not set`,
      );
    this.config = config;
    this.token = token;
    this.endpoint = hecEndpoint(config.url);
  }

  async deliver(events: readonly OcsfEvent[], signal: AbortSignal): Promise<undefined> {
    let body = '';
    for (const event of events) {
      body += `${JSON.stringify({
        time: event.time / 1000,
        host: this.host,
        source: 'paddock',
        sourcetype: this.config.sourcetype ?? 'paddock:ocsf',
        index: this.config.index,
        event,
      })}\n`;
    }
    await postBatch({
      sink: this.config.name,
      url: this.endpoint,
      body,
      headers: { authorization: `Splunk ${this.token}`, 'content-type': 'application/json' },
      gzip: this.config.gzip ?? false,
      signal,
    });
    return undefined;
  }

  async close(): Promise<void> {}
}
