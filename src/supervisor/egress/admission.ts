import type { Socket } from 'node:net';
import type { Clock } from '../../core/index.ts';
import {
  type CompiledService,
  decideAddresses,
  decideConnect,
  type EgressDecision,
  type EgressPolicy,
  findService,
} from '../../policy/index.ts';
import type { EgressAudit } from './audit.ts';
import type { CredentialPlaceholders } from './credentials.ts';
import type { EgressLimits } from './limits.ts';
import type { EgressLog } from './log.ts';
import type { Resolver } from './resolver.ts';
import type { SecretStore } from './secret-store.ts';
import type { UpstreamTlsOptions } from './upstream.ts';
import type { WorkspaceCa } from './ca.ts';
import type { EgressReviewQueue } from './review-hold.ts';
import type { RelayOutcome, TunnelRelay } from './tunnel-relay.ts';

// What every listener shares, and the one path from "the agent wants host:port" to "these
// checked addresses may be dialled": the connect decision, resolution at the gateway, the
// address decision, and the Network Activity event for the outcome.

export type ListenerKind = 'http-proxy' | 'transparent-http' | 'transparent-https' | 'socks5';

export interface GatewayCore {
  /** The policy in force; replaced whole when a new bundle applies. */
  policy: EgressPolicy;
  readonly resolver: Resolver;
  readonly ca: WorkspaceCa;
  readonly upstreamTls: UpstreamTlsOptions;
  readonly secrets: SecretStore | undefined;
  readonly placeholders: CredentialPlaceholders;
  readonly limits: EgressLimits;
  readonly audit: EgressAudit;
  readonly log: EgressLog;
  readonly clock: Clock;
  readonly reviewGate: ReviewGuard | undefined;
  /** Where covered requests are held; without it they are refused (review_required). */
  readonly reviewQueue: EgressReviewQueue | undefined;
  /** The L4 data path for tunnels the gateway does not inspect. */
  readonly relay: TunnelRelay;
}

/** A request the rules allowed, as the review guard sees it. */
export interface ReviewedRequest {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
}

/**
 * Names the review gate (e.g. `writes[0].review`) that covers an allowed request, or
 * undefined. A covered request is held in the review queue (review-hold.ts), or refused
 * when there is none: a write the blueprint gates never goes out unreviewed.
 */
export type ReviewGuard = (request: ReviewedRequest) => string | undefined;

/** One client connection from the sandbox. */
export interface ClientConnection {
  readonly id: string;
  readonly socket: Socket;
  readonly listener: ListenerKind;
  readonly sourceIp: string | undefined;
  readonly startedAt: number;
  /** The last destination admitted on this connection (for the close event). */
  admitted?: Admitted;
  /** Set when the relay carries the connection. */
  relayed?: RelayedTunnel;
}

/** A connection handed to the relay: the socket's counters at the handoff, and the relay's outcome. */
export interface RelayedTunnel {
  /** socket.bytesRead when the relay took the socket: what the gateway itself read. */
  readonly bytesRead: number;
  /** socket.bytesWritten then: what the gateway itself wrote. */
  readonly bytesWritten: number;
  /** Resolves when the tunnel ends, with what the relay moved after the handoff. */
  readonly outcome: Promise<RelayOutcome>;
}

export interface Admitted {
  readonly allow: true;
  readonly service: CompiledService;
  /** Normalized host: lower-case A-labels, or a canonical IP literal. */
  readonly host: string;
  readonly port: number;
  readonly literal: boolean;
  /** Checked addresses, in the resolver's order: the only ones the gateway will dial. */
  readonly addresses: readonly string[];
  readonly inspect: boolean;
  readonly decision: EgressDecision;
}

export interface Refused {
  readonly allow: false;
  readonly decision: EgressDecision;
  readonly host: string;
  readonly port: number;
}

/** Runs the connect and address stages for `host:port`, emitting one Network Activity event. */
export async function admit(
  core: GatewayCore,
  connection: ClientConnection,
  host: string,
  port: number,
): Promise<Admitted | Refused> {
  const policy = core.policy;
  const connect = decideConnect(policy, host, port);
  const facts = { connectionId: connection.id, sourceIp: connection.sourceIp, host, port };
  const refuse = (decision: EgressDecision, ip?: string): Refused => {
    core.audit.connection(decision, { ...facts, ip });
    core.log.denied({
      connectionId: connection.id,
      host,
      port,
      service: decision.service,
      reason: decision.reason,
      stage: decision.stage,
    });
    return { allow: false, decision, host, port };
  };
  if (!connect.allow || !('host' in connect)) return refuse(connect);
  const service = findService(policy, connect.service)!;
  let addresses: readonly string[];
  if (connect.literal) addresses = [connect.host];
  else {
    try {
      addresses = await core.resolver(connect.host);
    } catch {
      addresses = [];
    }
  }
  const checked = decideAddresses(service, addresses);
  if (!checked.allow)
    return refuse(addresses.length === 0 ? { ...checked, reason: 'resolve_failed' } : checked);
  const decision = checked.rule.endsWith('#cidrs') ? checked : connect;
  core.audit.connection(decision, { ...facts, host: connect.host, ip: addresses[0] });
  const admitted: Admitted = {
    allow: true,
    service,
    host: connect.host,
    port,
    literal: connect.literal,
    addresses: [...addresses],
    inspect: service.inspect,
    decision,
  };
  connection.admitted = admitted;
  return admitted;
}
