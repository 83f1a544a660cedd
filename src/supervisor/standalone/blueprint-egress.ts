import type { OcsfEvent } from '../../audit/index.ts';
import type { ResolvedBlueprint } from '../../config/index.ts';
import { createLogger } from '../../core/index.ts';
import {
  compilePolicyBundle,
  createDecisionPoint,
  type DecisionPoint,
  type DecisionRequest,
  type PolicyPrincipal,
  type ReviewGate,
} from '../../policy/index.ts';
import {
  compileBlueprintEgress,
  createEgressGateway,
  type EgressGateway,
  type EgressLimits,
  egressLoggingFromBlueprint,
  type Resolver,
  type SecretStore,
  type UpstreamTlsOptions,
  type WorkspaceCa,
} from '../egress/index.ts';
import { policyInputFromBlueprint } from '../pdp/index.ts';
import type { PolicyHolder } from '../policy/index.ts';

// The policy in force and the egress gateway that follows it, wired one way for every place a
// gateway runs: `paddock run` and each Linux workspace terminal (standalone-run.ts), and the
// Windows guest's gateway on loopback (workspace/host-egress.ts). Without a released policy the
// blueprint compiled with the repository's policies decides, fixed; with one, every decision,
// the egress rules and every event's bundle follow each applied release at once.

const log = createLogger('standalone');

/** The bundle that decides now, as every event names it. */
export interface BundleRef {
  readonly id: string;
  readonly version: string;
}

export interface PolicyInForceOptions {
  /** The effective blueprint (resolveBlueprint). */
  readonly resolved: ResolvedBlueprint;
  /** The repository's policies/*.cedar (file → text), merged into the compiled bundle. Default none. */
  readonly policies?: ReadonlyMap<string, string>;
  /** The released policy in force; default the bundle compiled from `resolved` and `policies`. */
  readonly appliedPolicy?: Pick<PolicyHolder, 'current' | 'onApplied'>;
  /** The principal of every request that names none. */
  readonly principal: PolicyPrincipal;
}

export interface PolicyInForce {
  /** Decides with the bundle in force at each call (a release between two calls changes the next whole). */
  readonly decisionPoint: DecisionPoint;
  /**
   * The bundle in force, read at each access (accessors: a static context object such as the
   * hooks' reads the current one at each event; closures copy it).
   */
  readonly bundleRef: BundleRef;
}

/** The decision point and bundle of a blueprint, or of the applied release when there is one. */
export function policyInForce(options: PolicyInForceOptions): PolicyInForce {
  const applied = options.appliedPolicy;
  const { principal } = options;
  const fixedPoint = applied
    ? undefined
    : createDecisionPoint(compilePolicyBundle(policyInputFromBlueprint(options.resolved, options.policies)), {
        principal,
        onEngineError: (error: unknown) =>
          log.error({ error: (error as Error).message }, 'pdp engine failed'),
      });
  // Read once per call: a release applied between two decisions changes the next one whole.
  const live = (): DecisionPoint =>
    fixedPoint ?? (applied as NonNullable<typeof applied>).current.decisionPoint;
  const asSession = <R extends DecisionRequest>(request: R): R =>
    request.principal ? request : { ...request, principal };
  const decisionPoint: DecisionPoint = {
    get bundle() {
      return live().bundle;
    },
    get engines() {
      return live().engines;
    },
    decide: (request) => live().decide(asSession(request)),
    decideWith: (engine, request) => live().decideWith(engine, asSession(request)),
    prepare: (request) => live().prepare(asSession(request)),
  };
  const bundleRef: BundleRef = {
    get id() {
      return live().bundle.id;
    },
    get version() {
      return live().bundle.version;
    },
  };
  return { decisionPoint, bundleRef };
}

export interface BlueprintGatewayOptions {
  readonly resolved: ResolvedBlueprint;
  /** policyInForce's result for the same blueprint and release. */
  readonly policy: PolicyInForce;
  /** The released policy in force: the gateway's rules follow each applied release. */
  readonly appliedPolicy?: Pick<PolicyHolder, 'current' | 'onApplied'>;
  /** The workspace CA inspected connections terminate TLS with. */
  readonly ca: WorkspaceCa;
  /** Every gateway event, on its hot path (must not throw). */
  readonly onEvent: (event: OcsfEvent) => void;
  readonly workspaceId: string;
  readonly sessionId: string;
  /**
   * Who a held write is requested by, read at each hold (never its reviewer). A throw refuses
   * the write (`review_unavailable`) instead of holding it.
   */
  readonly requester: () => string;
  /** Where review-gated writes are held. Without it they are refused (docs/egress.md). */
  readonly reviewGate?: ReviewGate;
  readonly secrets?: SecretStore;
  readonly resolver?: Resolver;
  readonly upstreamTls?: UpstreamTlsOptions;
  readonly egressLimits?: Partial<EgressLimits>;
}

export interface BlueprintGateway {
  /** Not yet listening: `listen(network)` (a sandbox) or `bind(host, ports)` (loopback). */
  readonly gateway: EgressGateway;
  /** Stops following applied releases (call before closing the gateway). */
  stopFollowing(): void;
}

/** The blueprint's egress gateway: its services' rules, its logging, its review-gated writes. */
export function createBlueprintGateway(options: BlueprintGatewayOptions): BlueprintGateway {
  const { blueprint } = options.resolved;
  const { decisionPoint, bundleRef } = options.policy;
  const applied = options.appliedPolicy;
  const { workspaceId, sessionId } = options;
  const blueprintRef = { name: blueprint.metadata.name, version: blueprint.metadata.version };
  const gateSpec = blueprint.spec.reviewGates;
  const gateway = createEgressGateway({
    policy: applied ? applied.current.egress : compileBlueprintEgress(blueprint.spec.services),
    ca: options.ca,
    onEvent: options.onEvent,
    context: () => ({ workspaceId, sessionId, blueprint: blueprintRef, bundle: { ...bundleRef } }),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.upstreamTls ? { upstreamTls: options.upstreamTls } : {}),
    ...(options.egressLimits ? { limits: options.egressLimits } : {}),
    logging: egressLoggingFromBlueprint(blueprint.spec.logging),
    // A write the blueprint gates is held in the review queue; without a queue it is refused
    // rather than sent (docs/egress.md).
    reviewGate: ({ host, port, method, path }) => {
      const decision = decisionPoint.decide({ action: 'http_request', method, host, port, path });
      if (decision.decision !== 'review') return undefined;
      return decision.policyIds.filter((id) => id.endsWith('.review')).join(', ') || 'review';
    },
    ...(options.reviewGate && gateSpec
      ? {
          reviewQueue: {
            gate: options.reviewGate,
            held: () => ({
              requester: { id: options.requester() },
              workspaceId,
              sessionId,
              blueprint: blueprintRef,
              bundle: { ...bundleRef },
              gate: gateSpec,
              ...(blueprint.spec.logging ? { logging: blueprint.spec.logging } : {}),
            }),
          },
        }
      : {}),
  });
  const stop = applied?.onApplied((next) => gateway.setPolicy(next.egress));
  return { gateway, stopFollowing: () => stop?.() };
}
