// The egress policy's own vocabulary. Policy imports only core, so these mirror the
// blueprint's `services` contract (src/config/schema/blueprint.ts) without importing it;
// the supervisor maps blueprint services onto EgressServiceSpec (a field-for-field copy).

/** L7 method classes of a service (`access` in the blueprint). */
export type EgressAccess = 'read-only' | 'read-write' | 'full';

/** One L7 rule: a request is allowed when its method and path both match. */
export interface EgressRuleSpec {
  /** Upper-case HTTP methods, compared exactly (methods are case-sensitive). */
  readonly methods: readonly string[];
  /** Path globs: `*` matches within one segment, `**` any number of whole segments. */
  readonly paths: readonly string[];
}

/** A service the agent may reach, as the blueprint states it (after shared services are expanded). */
export interface EgressServiceSpec {
  readonly name: string;
  /** Exact lower-case names, `*.example.com` (exactly one extra leading label), or IP literals (`[::1]` for IPv6). */
  readonly hosts: readonly string[];
  /** Allowed TCP ports. Empty or absent: [443]. */
  readonly ports?: readonly number[];
  readonly access?: EgressAccess;
  readonly rules?: readonly EgressRuleSpec[];
  /** Secret name injected by the gateway; implies inspection (access `full` when neither access nor rules is set). */
  readonly credential?: string;
  /** Header that carries the credential. Default `authorization`. */
  readonly credentialHeader?: string;
  /** Private ranges this service may resolve to; other denied ranges stay denied. */
  readonly cidrs?: readonly string[];
}

/**
 * Why a stage was allowed or denied: a fixed vocabulary carried into events, logs and
 * the 403 body. Codes are never renamed or reused.
 */
export const EGRESS_REASONS = {
  // allow
  host_allowed: 'the host and port match a service',
  address_allowed: "every resolved address is public or inside the service's cidrs",
  access_allowed: "the method is inside the service's access level",
  rule_matched: "the method and path match one of the service's rules",
  // deny: connect stage
  invalid_host: 'the destination is not a valid host name or IP literal',
  ip_literal_noncanonical: 'the IP literal is not written in canonical form (e.g. 0x7f.1, 2130706433)',
  ip_literal_not_allowed: 'no service lists this IP literal',
  no_matching_service: 'no service allows this host',
  port_not_allowed: 'the service does not allow this port',
  // deny: address stage
  address_denied: 'the host resolves to a denied address range',
  resolve_failed: 'the host name did not resolve',
  // deny: request stage
  method_not_allowed: "the method is outside the service's access level or rules",
  path_not_allowed: 'no rule of the service matches this method and path',
  path_ambiguous:
    'the path has dot segments, encoded slashes or backslashes that servers may read differently',
  host_mismatch: 'the Host header disagrees with the CONNECT target or the request target',
  sni_mismatch: 'the TLS server name disagrees with the CONNECT target or the Host header',
  sni_missing: 'the TLS ClientHello carries no server name',
  placeholder_misdirected: 'a credential placeholder was sent to a destination it is not bound to',
  review_required: 'a review gate covers this write, and the gateway has no review queue to hold it in',
  // review gates (docs/reviews.md): the write was held in the run's review queue
  review_pending: "the write awaits a reviewer's approval; repeat the identical request once it is approved",
  review_denied: 'a reviewer denied this write',
  review_expired: 'the review of this write timed out and its gate denies it (onTimeout deny)',
  review_approved: 'a reviewer approved this exact write; it goes through once',
  review_unavailable: 'the review queue failed, so the write is refused',
  review_body_too_large: 'the body of a review-gated write exceeds the size the gateway holds for review',
  // deny: gateway
  request_malformed: 'the request is malformed or ambiguous (possible request smuggling)',
  header_too_large: 'the request head exceeds the size limit',
  protocol_not_allowed: 'the connection did not speak the protocol this listener expects',
  connection_limit: 'the sandbox has too many open connections',
  upstream_failed: 'the upstream connection or its certificate verification failed',
} as const;

export type EgressReason = keyof typeof EGRESS_REASONS;

/** The stage a decision belongs to. */
export type EgressStage = 'connect' | 'address' | 'request';

/**
 * A decision for one stage. `rule` names what decided: `SERVICE#hosts`, `SERVICE#cidrs`,
 * `SERVICE#access:LEVEL`, `SERVICE#rules[N]`, or `default-deny`.
 */
export interface EgressDecision {
  readonly allow: boolean;
  readonly stage: EgressStage;
  readonly reason: EgressReason;
  /** The service that matched (absent when none did). */
  readonly service?: string;
  readonly rule: string;
  /** Operator-facing detail: the denied range, the offending address, what rule would allow it. */
  readonly detail?: string;
}

/** A connect-stage decision that allowed: carries what the gateway needs next. */
export interface EgressConnectAllow extends EgressDecision {
  readonly allow: true;
  readonly service: string;
  /** The normalized host (lower-case A-labels, no trailing dot) or canonical IP literal. */
  readonly host: string;
  /** Whether the host is an IP literal (no resolution: the literal itself is checked). */
  readonly literal: boolean;
  /** Whether requests are inspected (TLS terminated, each request matched). */
  readonly inspect: boolean;
}
