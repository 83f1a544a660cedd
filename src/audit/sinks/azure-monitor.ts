import { PaddockError } from '../../core/errors.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { AzureMonitorSinkConfig } from './config.ts';
import { postBatch } from './http-post.ts';
import type { DeliveryReport, SinkTransport } from './runner.ts';
import { className, workspaceOf } from './severity.ts';

// Azure Monitor Logs Ingestion API: POST
//   {endpoint}/dataCollectionRules/{ruleId}/streams/{stream}?api-version=2023-01-01
// with `Authorization: Bearer <Entra token for https://monitor.azure.com/.default>`, a JSON
// array body, gzip-compressed (Content-Encoding: gzip). One call carries at most 1 MB, so a
// batch is split into calls under that; progress is kept per batch so a retry resends only
// the calls not yet accepted. 204 accepted; 401 fetches a new token and retries; 429/5xx
// retried (Retry-After honoured); other 4xx dead-lettered. Each row matches the DCR stream
// columns documented in docs/audit-sinks.md.

export const AZURE_API_VERSION = '2023-01-01';
export const AZURE_MONITOR_SCOPE = 'https://monitor.azure.com/.default';
/** The Logs Ingestion API's per-call limit; kept under 1 MB with room for the array brackets. */
export const AZURE_MAX_CALL_BYTES = 1_000_000;

/** The part of @azure/identity's TokenCredential the sink uses. */
export interface TokenCredentialLike {
  getToken(scope: string): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** Builds the credential the config names: a client secret, or DefaultAzureCredential (workload/managed identity). */
export async function azureCredential(
  config: AzureMonitorSinkConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<TokenCredentialLike> {
  const identity = await import('@azure/identity');
  if (config.clientSecretEnv) {
    const secret = env[config.clientSecretEnv];
    if (!secret || !config.tenantId || !config.clientId)
      throw new PaddockError(
        'PDK_AUDIT_SINK_CONFIG',
        `audit sink ${config.name}: a client secret needs tenantId, clientId and ${config.clientSecretEnv} set`,
      );
    return new identity.ClientSecretCredential(config.tenantId, config.clientId, secret);
  }
  return new identity.DefaultAzureCredential({
    ...(config.tenantId ? { tenantId: config.tenantId } : {}),
    ...(config.clientId
      ? { managedIdentityClientId: config.clientId, workloadIdentityClientId: config.clientId }
      : {}),
  });
}

/** One row of the DCR stream. */
export function azureRow(event: OcsfEvent): Record<string, unknown> {
  return {
    TimeGenerated: new Date(event.time).toISOString(),
    EventUid: event.metadata.uid,
    ClassUid: event.class_uid,
    ClassName: className(event),
    EventCode: event.metadata.event_code,
    SeverityId: event.severity_id,
    Workspace: workspaceOf(event) ?? '',
    Event: event,
  };
}

export class AzureMonitorTransport implements SinkTransport {
  private readonly config: AzureMonitorSinkConfig;
  private readonly credential: TokenCredentialLike;
  private readonly url: string;
  private readonly now: () => number;
  private token: { token: string; expiresOnTimestamp: number } | undefined;
  /** Events of a batch already accepted, so a retry resends only the rest. */
  private readonly progress = new WeakMap<readonly OcsfEvent[], number>();

  constructor(config: AzureMonitorSinkConfig, credential: TokenCredentialLike, now: () => number) {
    this.config = config;
    this.credential = credential;
    this.now = now;
    this.url = `${config.endpoint.replace(/\/+$/, '')}/dataCollectionRules/${encodeURIComponent(
      config.ruleId,
    )}/streams/${encodeURIComponent(config.stream)}?api-version=${AZURE_API_VERSION}`;
  }

  async deliver(events: readonly OcsfEvent[], signal: AbortSignal): Promise<DeliveryReport | undefined> {
    const oversized: OcsfEvent[] = [];
    let start = this.progress.get(events) ?? 0;
    while (start < events.length) {
      let bytes = 2;
      const rows: string[] = [];
      let end = start;
      for (; end < events.length; end++) {
        const row = JSON.stringify(azureRow(events[end] as OcsfEvent));
        const size = Buffer.byteLength(row) + 1;
        if (size + 2 > AZURE_MAX_CALL_BYTES) {
          if (rows.length === 0) oversized.push(events[end] as OcsfEvent);
          else break;
          continue;
        }
        if (bytes + size > AZURE_MAX_CALL_BYTES) break;
        rows.push(row);
        bytes += size;
      }
      if (rows.length > 0) await this.post(`[${rows.join(',')}]`, signal);
      start = end;
      this.progress.set(events, start);
    }
    return oversized.length > 0
      ? {
          undeliverable: {
            events: oversized,
            reason: `event larger than the ${AZURE_MAX_CALL_BYTES}-byte call limit`,
          },
        }
      : undefined;
  }

  private async post(body: string, signal: AbortSignal): Promise<void> {
    const token = await this.bearer();
    try {
      await postBatch({
        sink: this.config.name,
        url: this.url,
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        gzip: true,
        signal,
        retryStatuses: [401],
      });
    } catch (error) {
      // 401: the token may have expired early or been revoked; the retry fetches a new one.
      if ((error as Error).message.endsWith('HTTP 401')) this.token = undefined;
      throw error;
    }
  }

  private async bearer(): Promise<string> {
    // Refresh five minutes before expiry so a call never carries a token that lapses in flight.
    if (this.token && this.token.expiresOnTimestamp - 300_000 > this.now()) return this.token.token;
    let token: { token: string; expiresOnTimestamp: number } | null;
    try {
      token = await this.credential.getToken(AZURE_MONITOR_SCOPE);
    } catch (error) {
      throw new PaddockError(
        'PDK_AUDIT_SINK_UNAVAILABLE',
        `audit sink ${this.config.name}: no Entra token: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    if (!token)
      throw new PaddockError('PDK_AUDIT_SINK_UNAVAILABLE', `audit sink ${this.config.name}: no Entra token`);
    this.token = token;
    return token.token;
  }

  async close(): Promise<void> {}
}
