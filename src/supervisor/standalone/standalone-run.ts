import type { OcsfEvent } from '../../audit/index.ts';
import type { ResolvedBlueprint } from '../../config/index.ts';
import { compileRedactPattern } from '../../config/schema/index.ts';
import { createLogger, newId } from '../../core/index.ts';
import { redactText } from '../../core/redact.ts';
import type { PolicyPrincipal, ReviewGate } from '../../policy/index.ts';
import {
  createEphemeralWorkspaceCa,
  loadOrCreateWorkspaceCa,
  type Resolver,
  type SecretStore,
  type UpstreamTlsOptions,
  type EgressLimits,
} from '../egress/index.ts';
import { type PdpReviewOptions, type PdpServer, startPdpServer } from '../pdp/index.ts';
import { type RunSandboxOptions, runSandbox, type SandboxRunResult } from '../sandbox/index.ts';
import { DEFAULT_STATE_DIR } from '../sandbox/sandbox-state.ts';
import type { Harness } from '../hooks/index.ts';
import type { McpServerPlan } from '../mcp/index.ts';
import type { PolicyHolder } from '../policy/index.ts';
import { supervisorEventRedactor } from '../audit-redaction.ts';
import { createBlueprintGateway, policyInForce } from './blueprint-egress.ts';
import { createRunDir } from './run-dir.ts';
import { MCP_SHIM_SANDBOX_PATH, type StandaloneMcp, startStandaloneMcp } from './standalone-mcp.ts';
import { type StandaloneHooks, startStandaloneHooks } from './standalone-hooks.ts';

// `paddock run`'s supervisor: one sandbox whose way out is the egress gateway (the blueprint's
// services, compiled) and whose PDP socket answers from the blueprint's compiled bundle. Every
// gateway and PDP event carries the bundle id and version and goes to the run's audit sink.

const log = createLogger('standalone');

/** Options of `runStandalone`: the sandbox's, minus what this layer supplies. */
export interface StandaloneRunOptions
  extends Omit<
    RunSandboxOptions,
    'listener' | 'caBundle' | 'pdpSocket' | 'credentialEnv' | 'beforeLaunch' | 'blueprint'
  > {
  /** The effective blueprint (resolveBlueprint): services, tools, writes, logging. */
  readonly resolved: ResolvedBlueprint;
  /** The repository's policies/*.cedar (file → text), merged into the bundle. Default none. */
  readonly policies?: ReadonlyMap<string, string>;
  /** Secrets for credentialed services. Without a store, requests to them fail (502). */
  readonly secrets?: SecretStore;
  /**
   * Directory of a persistent workspace CA (ca.key, ca.pem; created when absent). Default: a
   * fresh CA per run, held only in memory (its certificate is the one the sandbox trusts).
   */
  readonly caDir?: string;
  /** The user who started the run (PDP principal and events). Default `local`. */
  readonly user?: string;
  /** Workspace id in events. Default `local-<user>`. */
  readonly workspaceId?: string;
  /** Name resolution at the gateway. Default the system resolver. For tests and split-horizon DNS. */
  readonly resolver?: Resolver;
  /** Trust anchors for re-originated TLS. Default Node's CA store. */
  readonly upstreamTls?: UpstreamTlsOptions;
  readonly egressLimits?: Partial<EgressLimits>;
  /**
   * The run's review queue (the CLI's startStandaloneReviews().gate; the supervisor cannot
   * start it, the queue is control-plane code). When the blueprint has `reviewGates`, the PDP
   * socket holds each `review` decision there, with `user` as the requester and `workspaceId`
   * as the workspace. Default none: `review` is answered as the bundle decided.
   */
  readonly reviewGate?: ReviewGate;
  /**
   * Harnesses whose managed settings route their tool calls through the hook server
   * (docs/hooks.md). Default all (`claude-code`, `codex`, `gemini`); `[]` starts no hooks.
   */
  readonly hookHarnesses?: readonly Harness[];
  /**
   * The MCP servers the blueprint names (mcpServerPlans over the repository's services). When
   * any, the MCP gateway serves them on a socket bound at /run/paddock/mcp.sock, the native
   * shim is bound at /etc/paddock-mcp-shim, and the harnesses' settings name it as their one
   * MCP server (docs/mcp.md). Default none.
   */
  readonly mcpServers?: readonly McpServerPlan[];
  /**
   * The released policy in force (a workspace supervisor's PolicyHolder, fed by the control
   * plane's signed releases): every decision, the egress rules and every event's bundle follow
   * each applied release at once, for the rest of the run. Default: the bundle compiled from
   * `resolved` and `policies`, fixed for the run.
   */
  readonly appliedPolicy?: Pick<PolicyHolder, 'current' | 'onApplied'>;
}

/** What a standalone run reports beyond the sandbox's result. */
export interface StandaloneRunResult extends SandboxRunResult {
  /** The bundle that decided every PDP and egress request of the run. */
  readonly bundle: { readonly id: string; readonly version: string };
}

/**
 * Runs one command under the blueprint with the egress gateway and the PDP socket in place.
 * Throws PaddockError when the bundle does not compile or the sandbox cannot start.
 * @example
 * const result = await runStandalone({ command: ['curl', 'https://api.github.com'], workdir,
 *   dataScope, resolved: resolveBlueprint(state, 'code-review'), audit: (e) => writer.append(e) });
 */
export async function runStandalone(options: StandaloneRunOptions): Promise<StandaloneRunResult> {
  const { blueprint } = options.resolved;
  const applied = options.appliedPolicy;
  const blueprintRef = { name: blueprint.metadata.name, version: blueprint.metadata.version };
  const user = options.user ?? 'local';
  const sessionId = newId();
  const workspaceId = options.workspaceId ?? `local-${user}`;
  const principal: PolicyPrincipal = { session: sessionId, user, groups: [] };
  const audit = options.audit ?? (async () => {});
  // The one exit every event of this run takes: redacted here (src/supervisor/audit-redaction.ts),
  // before the audit log, spool or any sink sees it.
  const redactEvent = await supervisorEventRedactor({
    ...(blueprint.spec.logging ? { logging: blueprint.spec.logging } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    credentialNames: [
      ...(blueprint.spec.services ?? []).flatMap((service) =>
        service.credential ? [service.credential] : [],
      ),
      ...(options.mcpServers ?? []).flatMap((server) => (server.credential ? [server.credential] : [])),
    ],
  });
  // Gateway and PDP events arrive synchronously on their hot paths; the sink is async.
  const pending = new Set<Promise<unknown>>();
  const record = (event: OcsfEvent) => {
    const appended = audit(redactEvent(event))
      .catch((error: Error) => log.error({ error: error.message }, 'audit append failed'))
      .finally(() => pending.delete(appended));
    pending.add(appended);
  };

  const policy = policyInForce({
    resolved: options.resolved,
    ...(options.policies ? { policies: options.policies } : {}),
    ...(applied ? { appliedPolicy: applied } : {}),
    principal,
  });
  const { decisionPoint, bundleRef } = policy;
  const ca = options.caDir
    ? loadOrCreateWorkspaceCa(options.caDir, { commonName: `Paddock workspace CA (${workspaceId})` })
    : createEphemeralWorkspaceCa({ commonName: `Paddock run CA (${workspaceId})` });
  const gateSpec = blueprint.spec.reviewGates;
  const redactPatterns = (blueprint.spec.logging?.redact ?? []).map(compileRedactPattern);
  const redact =
    blueprint.spec.logging?.toolArguments === 'full'
      ? undefined
      : (text: string) => redactText(text, redactPatterns);
  const { gateway, stopFollowing } = createBlueprintGateway({
    resolved: options.resolved,
    policy,
    ...(applied ? { appliedPolicy: applied } : {}),
    ca,
    onEvent: record,
    workspaceId,
    sessionId,
    requester: () => user,
    ...(options.reviewGate ? { reviewGate: options.reviewGate } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.upstreamTls ? { upstreamTls: options.upstreamTls } : {}),
    ...(options.egressLimits ? { egressLimits: options.egressLimits } : {}),
  });
  const review: PdpReviewOptions | undefined =
    options.reviewGate && gateSpec
      ? {
          gate: options.reviewGate,
          requester: { id: user },
          workspaceId,
          blueprint: blueprintRef,
          spec: gateSpec,
          ...(blueprint.spec.logging ? { logging: blueprint.spec.logging } : {}),
        }
      : undefined;
  const runDir = createRunDir(options.stateDir ?? DEFAULT_STATE_DIR, gateway.caCertPem);
  let pdp: PdpServer | undefined;
  let hooks: StandaloneHooks | undefined;
  let mcp: StandaloneMcp | undefined;
  try {
    if (options.mcpServers && options.mcpServers.length > 0) {
      mcp = await startStandaloneMcp({
        runDir: runDir.path,
        servers: options.mcpServers,
        decide: (request) => decisionPoint.decide(request),
        onEvent: record,
        context: () => ({ workspaceId, sessionId, bundle: { ...bundleRef }, blueprint: blueprintRef }),
        requester: { id: user },
        ca,
        ...(blueprint.spec.logging ? { logging: blueprint.spec.logging } : {}),
        ...(options.reviewGate && gateSpec ? { reviews: options.reviewGate, reviewGate: gateSpec } : {}),
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(options.resolver ? { resolver: options.resolver } : {}),
        ...(options.upstreamTls ? { upstreamTls: options.upstreamTls } : {}),
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      });
    }
    if (options.hookHarnesses === undefined || options.hookHarnesses.length > 0)
      hooks = await startStandaloneHooks({
        runDir: runDir.path,
        pdpSocket: runDir.pdpSocket,
        ...(options.hookHarnesses ? { harnesses: options.hookHarnesses } : {}),
        ...(mcp ? { mcp: { shimPath: MCP_SHIM_SANDBOX_PATH } } : {}),
        emit: record,
        context: { workspaceId, sessionId, blueprint: blueprintRef, bundle: bundleRef },
        ...(redact ? { redact } : {}),
      });
    const hookBinds = [...(hooks?.binds ?? []), ...(mcp?.binds ?? [])];
    const result = await runSandbox({
      ...options,
      blueprint: blueprintRef,
      listener: gateway,
      caBundle: runDir.caBundle,
      pdpSocket: runDir.pdpSocket,
      credentialEnv: gateway.credentialEnv(),
      // The caller's own binds (a workspace's helper scripts) after the hooks'.
      readOnlyBinds: [...hookBinds, ...(options.readOnlyBinds ?? [])],
      // The socket belongs to the sandbox's uid (0600): no other local user can ask it.
      beforeLaunch: async (uid) => {
        hooks?.ownBy(uid);
        mcp?.ownBy(uid);
        pdp = await startPdpServer({
          socketPath: runDir.pdpSocket,
          decisionPoint,
          principal,
          emit: record,
          audit: { workspaceId, sessionId, blueprint: blueprintRef },
          ...(redact ? { redact } : {}),
          ...(review ? { review } : {}),
          owner: { uid, gid: uid },
        });
      },
    });
    return { ...result, bundle: { id: bundleRef.id, version: bundleRef.version } };
  } finally {
    stopFollowing();
    await mcp?.close().catch(() => {});
    await hooks?.close();
    await pdp?.close().catch(() => {});
    await gateway.close().catch(() => {});
    await Promise.all(pending);
    runDir.remove();
  }
}
