// Inputs shared by every event builder: what Paddock knows about who acted, where, and which
// policy decided. Builders turn these into OCSF 1.8.0 objects; callers never write OCSF by hand.

/** The PDP's answer for one agent action. `review` is a permit held until a review gate resolves. */
export type Decision = 'allow' | 'deny' | 'review';

/** OCSF severity_id: 1 Informational … 5 Critical, 6 Fatal. */
export type SeverityId = 1 | 2 | 3 | 4 | 5 | 6;

/** A person (or service account) as the identity provider names them. */
export interface AuditUser {
  /** Stable subject identifier from the identity provider (OIDC `sub`). */
  readonly uid: string;
  /** Login name, e.g. `alice`. */
  readonly name?: string;
  readonly email?: string;
  readonly groups?: readonly string[];
}

/** A network endpoint as the gateway saw it. At least one of ip or hostname. */
export interface AuditEndpoint {
  readonly ip?: string;
  readonly hostname?: string;
  /** TCP/UDP port, 0..65535. */
  readonly port?: number;
}

/** The signed policy bundle in force when a decision was made. */
export interface BundleRef {
  readonly id: string;
  /** The bundle's version as signed (monotonic; never goes back). */
  readonly version: string;
}

/** The blueprint (workflow template) the agent session runs under. */
export interface BlueprintRef {
  readonly name: string;
  /** semver from `metadata.version`. */
  readonly version: string;
}

/** Context every event may carry. All optional here; the class builders require what their class needs. */
export interface AuditContext {
  /** When the event happened, milliseconds since the epoch. Default: now. */
  readonly time?: number;
  /** Event uid (metadata.uid). Default: a fresh UUID. */
  readonly uid?: string;
  /** The workspace the event happened in; becomes `device.uid`. */
  readonly workspaceId?: string;
  /** The user on whose behalf the actor acted. */
  readonly user?: AuditUser;
  /** The agent session (the PDP principal) or the user's login session; becomes `actor.session.uid`. */
  readonly sessionId?: string;
  /** The agent harness that acted, e.g. `claude-code`; becomes `actor.app_name`. */
  readonly harness?: string;
  readonly blueprint?: BlueprintRef;
  /** Links related events, e.g. a review request and its resolution (metadata.correlation_uid). */
  readonly correlationUid?: string;
  /** One human-readable line for the SIEM's event list. */
  readonly message?: string;
}

/** Context of an action an agent session took inside a workspace. */
export interface AgentContext extends AuditContext {
  readonly workspaceId: string;
  readonly sessionId: string;
}

/** What the PDP decided and why; every decision event carries the bundle that decided it. */
export interface DecisionInput {
  readonly decision: Decision;
  /** Machine-readable reason, e.g. `host_not_allowed`, `command_denied`; becomes `status_code`. */
  readonly reasonCode: string;
  /** Operator-readable reason; becomes `status_detail`. */
  readonly reason?: string;
  readonly bundle: BundleRef;
  /** Id of the Cedar policy that determined the decision, when one did. */
  readonly ruleId?: string;
  /** Default: 1 (Informational) for allow and review, 2 (Low) for deny. */
  readonly severityId?: SeverityId;
}

/** An OCSF event object as the builders produce it (JSON-safe, plain data). */
export interface OcsfEvent {
  readonly class_uid: number;
  readonly category_uid: number;
  readonly activity_id: number;
  readonly type_uid: number;
  readonly time: number;
  readonly severity_id: number;
  readonly metadata: {
    readonly uid: string;
    readonly version: string;
    readonly event_code: string;
    readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
    readonly profiles?: readonly string[];
    readonly correlation_uid?: string;
  };
  readonly [attribute: string]: unknown;
}
