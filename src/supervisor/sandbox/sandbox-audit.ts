import {
  type BlueprintRef,
  componentEvent,
  egressDecisionEvent,
  execDecisionEvent,
  findingEvent,
  type OcsfEvent,
  processExitedEvent,
} from '../../audit/index.ts';
import { newId } from '../../core/ids.ts';
import type { GitHookReport } from './git-hook-report.ts';
import type { DropCounters, EgressDenial } from './network/index.ts';
import type { SeccompDenial } from './seccomp-denials.ts';

// The sandbox's audit events (docs/sandbox.md lists them):
//   sandbox.started / sandbox.stopped   Application Lifecycle: the sandbox itself
//   exec.allowed / process.exited       Process Activity (Launch / Terminate): the command
//   egress.denied                       Network Activity: each refusal by the egress listener
//   finding.created                     Detection Finding: escape attempts the supervisor saw
//   finding.created                     Detection Finding: seccomp refusals seen in the kernel log
//                                       (seccomp-denials.ts says when they cannot be seen)
//   finding.created                     Detection Finding: git hooks the run wrote, which would
//                                       run on the host (git-hook-report.ts)

/** What every event of one sandbox run shares. */
export interface SandboxAuditContext {
  readonly sandboxId: string;
  /** `local` for standalone `paddock run`. */
  readonly workspaceId: string;
  /** The agent session: one per run in standalone mode. */
  readonly sessionId: string;
  readonly blueprint?: BlueprintRef;
  readonly argv: readonly string[];
  /** Joins exec.allowed and process.exited. */
  readonly processUid: string;
}

/** Standalone mode has no signed bundle: decisions name the blueprint that made them. */
function standaloneBundle(ctx: SandboxAuditContext) {
  return { id: `blueprint:${ctx.blueprint?.name ?? 'none'}`, version: ctx.blueprint?.version ?? '0.0.0' };
}

const base = (ctx: SandboxAuditContext) => ({
  workspaceId: ctx.workspaceId,
  sessionId: ctx.sessionId,
  blueprint: ctx.blueprint,
  correlationUid: ctx.sandboxId,
});

export function newSandboxAuditContext(
  argv: readonly string[],
  blueprint?: BlueprintRef,
): SandboxAuditContext {
  return {
    sandboxId: `sbx-${newId()}`,
    workspaceId: 'local',
    sessionId: newId(),
    blueprint,
    argv,
    processUid: newId(),
  };
}

/** sandbox.started, or a failed start with the reason; `weakened` names waived layers. */
export function sandboxStartedEvent(
  ctx: SandboxAuditContext,
  failure?: string,
  weakened: readonly string[] = [],
): OcsfEvent {
  return componentEvent({
    ...base(ctx),
    event: 'sandbox.started',
    componentId: ctx.sandboxId,
    failure: failure === undefined ? undefined : { reasonCode: 'sandbox_start_failed', reason: failure },
    message:
      weakened.length > 0
        ? `sandbox started WITHOUT ${weakened.join(', ')} (blueprint spec.sandbox.allowMissing)`
        : undefined,
  });
}

export function sandboxStoppedEvent(ctx: SandboxAuditContext, exitCode: number): OcsfEvent {
  return componentEvent({
    ...base(ctx),
    event: 'sandbox.stopped',
    componentId: ctx.sandboxId,
    message: `command exited with ${exitCode}`,
  });
}

export function commandLaunchedEvent(ctx: SandboxAuditContext, pid: number): OcsfEvent {
  return execDecisionEvent({
    ...base(ctx),
    decision: 'allow',
    reasonCode: 'sandbox_command',
    reason: 'the command paddock run was given',
    bundle: standaloneBundle(ctx),
    argv: ctx.argv,
    pid,
    processUid: ctx.processUid,
    cwd: '/workspace',
  });
}

export function commandExitedEvent(
  ctx: SandboxAuditContext,
  pid: number | undefined,
  exitCode: number,
  durationMs: number,
): OcsfEvent {
  return processExitedEvent({
    ...base(ctx),
    argv: ctx.argv,
    pid,
    processUid: ctx.processUid,
    exitCode,
    durationMs: Math.round(durationMs),
    cwd: '/workspace',
  });
}

export function egressDeniedEvent(ctx: SandboxAuditContext, denial: EgressDenial): OcsfEvent {
  return egressDecisionEvent({
    ...base(ctx),
    decision: 'deny',
    reasonCode: denial.reason,
    bundle: standaloneBundle(ctx),
    destination: { hostname: denial.host || undefined, port: denial.port },
    sourceIp: denial.sourceAddress,
  });
}

/** A Detection Finding when the sandbox's seccomp filter refused syscalls (kernel-log evidence). */
export function seccompDenialFinding(
  ctx: SandboxAuditContext,
  denials: readonly SeccompDenial[],
): OcsfEvent | undefined {
  if (denials.length === 0) return undefined;
  const summary = denials.map((denial) => `${denial.syscall}=${denial.count}`).join(', ');
  return findingEvent({
    ...base(ctx),
    event: 'finding.created',
    findingId: newId(),
    title: 'Sandbox syscalls refused by seccomp',
    description: `The sandbox called syscalls its filter refuses (${summary}); counts are a lower bound (the kernel rate-limits these log lines).`,
    detector: 'sandbox.seccomp_denied',
    severityId: 3,
    types: ['sandbox-escape-attempt'],
    confidence: 'medium',
    evidence: [{ command: { argv: ctx.argv, processUid: ctx.processUid } }],
  });
}

/** A Detection Finding when the sandbox firewall refused packets: something tried to bypass the proxy. */
export function firewallDropFinding(ctx: SandboxAuditContext, drops: DropCounters): OcsfEvent | undefined {
  const refused = Object.entries(drops).filter(([kind, packets]) => kind !== 'dns' && packets > 0);
  if (refused.length === 0 && drops.dns === 0) return undefined;
  const summary = Object.entries(drops)
    .filter(([, packets]) => packets > 0)
    .map(([kind, packets]) => `${kind}=${packets}`)
    .join(', ');
  return findingEvent({
    ...base(ctx),
    event: 'finding.created',
    findingId: newId(),
    title: 'Sandbox traffic refused by the firewall',
    description: `Packets that bypassed the supervisor's proxy were dropped (${summary}).`,
    detector: drops.dns > 0 ? 'sandbox.firewall_drop.dns' : 'sandbox.firewall_drop',
    severityId: 3,
    types: ['sandbox-escape-attempt', ...(drops.dns > 0 ? ['dns-exfiltration'] : [])],
    confidence: 'high',
    evidence: [{ command: { argv: ctx.argv, processUid: ctx.processUid } }],
  });
}

/** Paths listed in a git hook finding's description and evidence; the rest are counted. */
const MAX_LISTED_HOOKS = 20;

/**
 * A Detection Finding when the run wrote git hooks, code-running git config or `.git` pointers
 * beneath its writable scopes, or when the scan for them could not finish: those act as the
 * user the next time they run git there on the host, so they must be inspected first.
 */
export function gitHooksFinding(ctx: SandboxAuditContext, report: GitHookReport): OcsfEvent | undefined {
  if (report.changes.length === 0 && !report.incomplete) return undefined;
  const listed = report.changes.slice(0, MAX_LISTED_HOOKS);
  const more = report.changes.length - listed.length;
  const paths = listed.map((change) => `${change.path} (${change.kind}, ${change.change})`).join(', ');
  const incomplete = report.incomplete
    ? ` Under ${report.incomplete.dest} ${report.incomplete.reason}: repositories it did not reach were not checked.`
    : '';
  return findingEvent({
    ...base(ctx),
    event: 'finding.created',
    findingId: newId(),
    title: 'Git hooks written in the workspace',
    description: `${
      report.changes.length > 0
        ? `The sandbox wrote git hooks or config that run commands when git is used on the host: ${paths}${more > 0 ? ` and ${more} more` : ''}. Inspect them before running git in those repositories.`
        : 'Git hooks written by the sandbox could not all be checked.'
    }${incomplete}`,
    detector: 'sandbox.git_hooks_written',
    severityId: 4,
    types: ['persistence', 'host-code-execution'],
    confidence: 'high',
    evidence: [
      { command: { argv: ctx.argv, processUid: ctx.processUid } },
      ...listed.map((change) => ({ path: change.path })),
    ],
  });
}
