import { ERRORS } from '../../../core/errors.ts';
import type { EgressReason } from '../../../policy/index.ts';
import type { SandboxNetwork } from './sandbox-network.ts';

// The seam between the sandbox network and whatever carries (or refuses) its traffic. The
// network guarantees that the sandbox can open TCP connections to exactly four sockets,
// network.hostAddress at network.ports, and nothing else; an EgressListener owns those four
// sockets. Until the egress gateway (issue 4) exists, the deny listener is the one
// implementation, and it refuses everything. If the supervisor dies, the sockets die with it
// and the sandbox has no way out at all (the host firewall admits only sockets bound to the
// host address, so no wildcard listener on the same port can stand in).

/** How the sandbox asked: which listener, which form. */
export type EgressVia =
  /** HTTP CONNECT to the explicit proxy (HTTPS_PROXY). */
  | 'connect'
  /** An absolute-form request (`GET http://host/…`) to the explicit proxy (HTTP_PROXY). */
  | 'absolute'
  /** Plain HTTP to port 80 anywhere, redirected to the gateway: the Host header names the destination. */
  | 'transparent-http'
  /** TLS to port 443 anywhere, redirected: the ClientHello's server name names the destination. */
  | 'transparent-tls'
  /** SOCKS5 CONNECT (ALL_PROXY=socks5h://…), usually with a domain name. */
  | 'socks';

/**
 * One destination the sandbox asked for. `host` is what the client named, untrusted and not
 * normalized (the gateway normalizes and resolves it). The address the sandbox originally
 * dialled before the transparent redirect is deliberately not part of it: the redirect is a
 * DNAT inside the sandbox's namespace, so the supervisor could not see it anyway, and routing
 * on the name (then resolving and checking it at the gateway) is what the policy is about.
 */
export interface EgressRequest {
  /** The SandboxNetwork's id. */
  readonly sandboxId: string;
  /** Host name or IP literal as sent (CONNECT target, URL host, Host header, SNI, SOCKS address); '' if none. */
  readonly host: string;
  /** Destination port (80 or 443 for the transparent listeners). */
  readonly port: number;
  readonly via: EgressVia;
  /** The sandbox's end of the connection. */
  readonly sourceAddress: string;
  readonly sourcePort: number;
}

/**
 * Why a request was refused: the policy's vocabulary, plus the listener's own two:
 * `decision_failed` (the decider threw: fail closed) and `gateway_unavailable` (the decider
 * allowed, but this listener cannot carry traffic: the deny listener never forwards).
 */
export type EgressDenyReason = EgressReason | 'decision_failed' | 'gateway_unavailable';

/** A decider's answer. `rule` names what decided, e.g. `github#hosts` or `default-deny`. */
export type EgressVerdict =
  | { readonly allow: true; readonly rule: string }
  | {
      readonly allow: false;
      readonly reason: EgressDenyReason;
      readonly rule: string;
      readonly detail?: string;
    };

/**
 * The decision function a listener consults (policy stays pure; the listener does the I/O).
 * A decider that throws or rejects counts as a deny (`decision-error`).
 */
export type EgressDecider = (request: EgressRequest) => Promise<EgressVerdict>;

/** The decider with no policy at all: every destination is refused. */
export const denyAllEgress: EgressDecider = async () => ({
  allow: false,
  reason: 'no_matching_service',
  rule: 'default-deny',
  detail: 'no egress gateway is installed for this sandbox, so every destination is denied',
});

/** A refused request, for the audit layer (an `egress.denied` Network Activity event). */
export interface EgressDenial extends EgressRequest {
  readonly reason: EgressDenyReason;
  readonly rule: string;
  readonly detail?: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

/**
 * Called once per refused request. It runs on the listener's hot path: keep it synchronous and
 * cheap (append to a bounded spool); an exception is logged and otherwise ignored.
 */
export type EgressDenialHandler = (denial: EgressDenial) => void;

/**
 * What the egress gateway implements to plug into a sandbox network. Implementations must bind
 * each port on `network.hostAddress` only (never a wildcard address: the host firewall admits
 * only address-bound sockets), drop connections whose source is not `network.sandboxAddress`,
 * and refuse whatever they cannot decide.
 */
export interface EgressListener {
  /** Binds the four listeners. Rejects with PDK_NETWORK_LISTEN, leaving nothing bound, if any port fails. */
  listen(network: SandboxNetwork): Promise<void>;
  /** Stops listening and destroys every open connection. Idempotent. */
  close(): Promise<void>;
}

/** The `X-Paddock-Error` response header carried by every refusal. */
export const PADDOCK_ERROR_HEADER = 'x-paddock-error';

/** Longest host echoed back to the client or handed to the audit layer. */
export const MAX_ECHOED_HOST = 255;

/** A client-supplied host made safe to echo: printable ASCII only, bounded. */
export function echoableHost(host: string): string {
  return host.replace(/[^\x21-\x7e]/g, '?').slice(0, MAX_ECHOED_HOST);
}

/** The JSON body of a refusal, readable by the agent so it can tell its user why. */
export function denialBody(denial: EgressDenial): Record<string, unknown> {
  return {
    error: 'PDK_EGRESS_DENIED',
    message: ERRORS.PDK_EGRESS_DENIED.message,
    reason: denial.reason,
    rule: denial.rule,
    detail: denial.detail,
    host: denial.host,
    port: denial.port,
    via: denial.via,
    fix: ERRORS.PDK_EGRESS_DENIED.fix,
  };
}
