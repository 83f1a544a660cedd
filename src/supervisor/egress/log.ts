import { createLogger, type Logger } from '../../core/index.ts';

// Every log line the egress gateway writes, in one place so they can be reviewed together.
// Fields come from an allowlist: hosts, ports, services, reason codes, connection ids and
// sizes. Never header values, bodies, placeholders or secrets. The agent's faults (denials,
// malformed requests) log at info; our own at error.

export interface EgressLog {
  denied(fields: {
    connectionId: string;
    host?: string;
    port?: number;
    service?: string;
    reason: string;
    stage: string;
  }): void;
  malformed(fields: { connectionId: string; listener: string; reason: string; detail: string }): void;
  placeholderMisdirected(fields: {
    connectionId: string;
    host: string;
    port: number;
    credential: string;
    service?: string;
  }): void;
  secretReflected(fields: { connectionId: string; host: string; service: string }): void;
  upstreamFailed(fields: {
    connectionId: string;
    host: string;
    port: number;
    service: string;
    error: string;
  }): void;
  limitReached(fields: { listener: string; open: number; limit: number }): void;
  eventSinkFailed(fields: { error: string }): void;
  reviewFailed(fields: { connectionId: string; service: string; error: string }): void;
  internal(fields: { connectionId?: string; listener?: string; error: string }): void;
  listening(fields: { listener: string; address: string; port: number }): void;
  foreignConnection(fields: { listener: string; remoteAddress: string }): void;
}

export function createEgressLog(logger: Logger = createLogger('egress')): EgressLog {
  return {
    denied: (fields) => logger.info(fields, 'egress denied'),
    malformed: (fields) => logger.info(fields, 'egress request refused as malformed'),
    placeholderMisdirected: (fields) =>
      logger.warn(fields, 'credential placeholder sent to a destination it is not bound to; request refused'),
    secretReflected: (fields) =>
      logger.warn(
        fields,
        'upstream response contained the injected credential; connection closed before it reached the sandbox',
      ),
    upstreamFailed: (fields) => logger.info(fields, 'upstream connection failed'),
    limitReached: (fields) => logger.warn(fields, 'egress connection limit reached; connection refused'),
    eventSinkFailed: (fields) => logger.error(fields, 'audit event sink failed; event lost'),
    reviewFailed: (fields) => logger.error(fields, 'review queue failed; review-gated write refused'),
    internal: (fields) => logger.error(fields, 'egress gateway fault'),
    listening: (fields) => logger.info(fields, 'egress listener ready'),
    foreignConnection: (fields) => logger.warn(fields, 'connection from outside the sandbox refused'),
  };
}
