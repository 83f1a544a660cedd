import {
  type AgentContext,
  type BundleRef,
  egressClosedEvent,
  egressDecisionEvent,
  type OcsfEvent,
} from '../../audit/index.ts';
import { redactText } from '../../core/redact.ts';
import type { EgressDecision, GateDecision } from '../../policy/index.ts';
import { PLACEHOLDER_PREFIX } from './credentials.ts';
import { HttpEventCache } from './http-event-cache.ts';
import type { EgressLog } from './log.ts';

// The gateway's audit records: Network Activity (4001) for every connection decision and
// close, HTTP Activity (4002) for every inspected request. Events never carry header
// values; URLs are redacted as the blueprint's `logging` says, and placeholders are masked
// whatever it says. Secrets never reach this module.

/** Who and which policy: supplied by the supervisor, read at each event so a new bundle shows at once. */
export interface EgressEventContext extends AgentContext {
  readonly bundle: BundleRef;
}

/** How URLs appear in HTTP Activity events (from the blueprint's `logging`). */
export interface EgressLogging {
  /** `full`: URL as sent; `redacted` (default): `redact` patterns applied; `none`: the query string dropped, then redacted. */
  readonly urls?: 'full' | 'redacted' | 'none';
  /** Patterns whose matches become `[REDACTED]`. */
  readonly redact?: readonly RegExp[];
}

export interface ConnectionFacts {
  readonly connectionId: string;
  readonly sourceIp?: string;
  readonly host: string;
  readonly port: number;
  /** The address connected to (allow) or refused (deny), when one was chosen. */
  readonly ip?: string;
}

/** The request an HTTP Activity event describes (the URL unredacted: the audit redacts it). */
export interface HttpRequestFacts {
  readonly method: string;
  readonly url: string;
  readonly userAgent?: string;
  readonly responseCode?: number;
}

export class EgressAudit {
  private readonly onEvent: (event: OcsfEvent) => void;
  private readonly context: () => EgressEventContext;
  private readonly log: EgressLog;
  private readonly logging: EgressLogging;
  /** HTTP Activity is one event per inspected request: built from templates (http-event-cache.ts). */
  private readonly httpEvents = new HttpEventCache();

  constructor(
    onEvent: (event: OcsfEvent) => void,
    context: () => EgressEventContext,
    log: EgressLog,
    logging: EgressLogging = {},
  ) {
    this.onEvent = onEvent;
    this.context = context;
    this.log = log;
    this.logging = logging;
  }

  /** `egress.allowed` / `egress.denied` for one connection-level decision. */
  connection(decision: EgressDecision, facts: ConnectionFacts): void {
    this.emit(() =>
      egressDecisionEvent({
        ...this.context(),
        decision: decision.allow ? 'allow' : 'deny',
        reasonCode: decision.reason,
        reason: decision.detail,
        ruleId: decision.rule,
        destination: { hostname: facts.host, port: facts.port, ip: facts.ip, service: decision.service },
        sourceIp: facts.sourceIp,
        connectionId: facts.connectionId,
      }),
    );
  }

  /** `egress.closed` for an allowed connection. */
  closed(
    facts: ConnectionFacts & { service?: string; bytesIn: number; bytesOut: number; durationMs: number },
  ): void {
    this.emit(() =>
      egressClosedEvent({
        ...this.context(),
        destination: { hostname: facts.host, port: facts.port, ip: facts.ip, service: facts.service },
        sourceIp: facts.sourceIp,
        connectionId: facts.connectionId,
        bytesIn: facts.bytesIn,
        bytesOut: facts.bytesOut,
        durationMs: facts.durationMs,
      }),
    );
  }

  /**
   * `http.allowed` / `http.denied` for one inspected request. `review` links the request a
   * reviewer approved to its review.* events (metadata.correlation_uid).
   */
  request(
    decision: EgressDecision,
    request: HttpRequestFacts,
    facts: ConnectionFacts,
    review?: string,
  ): void {
    this.emit(() =>
      this.httpEvent(
        {
          decision: decision.allow ? 'allow' : 'deny',
          reasonCode: decision.reason,
          reason: decision.detail,
          correlationUid: review,
        },
        decision.rule,
        decision.service,
        request,
        facts,
      ),
    );
  }

  /**
   * The event for one step of a held request's review (`http.review_requested` while it waits,
   * `http.allowed` / `http.denied` once decided), built for the review queue to append in order
   * with its review.* events.
   */
  reviewStep(
    step: GateDecision,
    rule: string,
    service: string,
    request: HttpRequestFacts,
    facts: ConnectionFacts,
  ): OcsfEvent {
    return this.httpEvent(
      {
        decision: step.decision,
        reasonCode: step.reasonCode,
        reason: step.reason,
        correlationUid: step.correlationUid,
      },
      rule,
      service,
      request,
      facts,
    );
  }

  private httpEvent(
    outcome: {
      decision: 'allow' | 'deny' | 'review';
      reasonCode: string;
      reason?: string;
      correlationUid?: string;
    },
    rule: string | undefined,
    service: string | undefined,
    request: HttpRequestFacts,
    facts: ConnectionFacts,
  ): OcsfEvent {
    return this.httpEvents.build({
      ...this.context(),
      decision: outcome.decision,
      reasonCode: outcome.reasonCode,
      reason: outcome.reason === undefined ? undefined : this.redact(outcome.reason),
      ...(outcome.correlationUid ? { correlationUid: outcome.correlationUid } : {}),
      ruleId: rule,
      method: request.method,
      url: this.redactUrl(request.url),
      userAgent: request.userAgent === undefined ? undefined : this.redact(request.userAgent),
      responseCode: request.responseCode,
      destination: { hostname: facts.host, port: facts.port, ip: facts.ip, service },
      sourceIp: facts.sourceIp,
    });
  }

  private redactUrl(url: string): string {
    const mode = this.logging.urls ?? 'redacted';
    if (mode === 'full') return maskPlaceholders(url);
    const kept = mode === 'none' ? url.replace(/\?.*$/, '') : url;
    return this.redact(kept);
  }

  private redact(text: string): string {
    return redactText(maskPlaceholders(text), this.logging.redact ?? []);
  }

  private emit(build: () => OcsfEvent): void {
    // A sink that throws must not take the connection down with it: the sink (the audit
    // spool) owns durability. The loss is logged as our own fault.
    try {
      this.onEvent(build());
    } catch (error) {
      this.log.eventSinkFailed({ error: (error as Error).message });
    }
  }
}

function maskPlaceholders(text: string): string {
  return text.includes(PLACEHOLDER_PREFIX)
    ? text.replace(/pdk_ph_[A-Za-z0-9_]+/g, `${PLACEHOLDER_PREFIX}[REDACTED]`)
    : text;
}
