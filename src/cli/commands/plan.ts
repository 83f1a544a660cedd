import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DesiredState, ResolvedBlueprint } from '../../config/index.ts';
import { openStore, sqliteStoreUrl, type Store } from '../../controlplane/index.ts';
import {
  describeStep,
  type DesiredStateSource,
  openSource,
  type Plan,
  type PlannedChange,
  planSource,
  type SourceSpec,
} from '../../controlplane/reconciler/index.ts';
import {
  type CandidateDecisionPoints,
  type ReplayReport,
  recordedDecisionsFromChainLines,
  recordedDecisionsFromStore,
  replayDecisions,
} from '../../controlplane/whatif/index.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import { compilePolicyBundle, createDecisionPoint, type DecisionPoint } from '../../policy/index.ts';
import { policyInputFromBlueprint } from '../../supervisor/index.ts';
import {
  CONFIG_HELP,
  CONFIG_OPTION,
  type Command,
  type CommandContext,
  JSON_HELP,
  JSON_OPTION,
} from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { writeJson } from '../output.ts';

export const SOURCE_HELP = `${CONFIG_HELP}
      --repo URL      a Git repository instead (file://, https://, ssh://), fetched into
                      the data directory
      --ref REF       the branch, tag or commit of --repo (default HEAD)
      --data-dir DIR  the control plane's data directory (default: $${ENV.dataDir}, else ./.paddock)
      --store URL     the store (default: SQLite under the data directory)`;

export const SOURCE_OPTIONS = {
  ...CONFIG_OPTION,
  repo: { type: 'string' },
  ref: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
} as const;

const HELP = `Computes what the desired state at a commit asks the control plane to change, and
prints the plan: users affected, workspaces to create (assigned users without one), rebuild
(their profile or its image changed), revoke (users no longer assigned, disabled, or moved to
another profile), and bundles to release (blueprints whose content changed). Nothing changes:
\`paddock apply\` carries the plan out.

With --replay DAYS it also replays the decisions audited in the last DAYS days against the
candidate bundles (compiled from this commit) and lists every decision that would change:
allow→deny, deny→allow, newly review-gated (and review→allow, review→deny).

Exit codes: 0 planned (whatever it holds), 1 invalid repository or store error, 2 usage error.

Options:
${SOURCE_HELP}
      --replay DAYS   replay the last DAYS days of audited decisions (from the store)
      --audit FILE    also replay a hash-chained audit log file (repeatable)
${JSON_HELP}
`;

export function dataDirOf(ctx: CommandContext): string {
  return resolve(
    ctx.cwd,
    (ctx.values['data-dir'] as string | undefined) ?? ctx.env[ENV.dataDir] ?? '.paddock',
  );
}

export function sourceSpecOf(ctx: CommandContext): SourceSpec {
  const repo = ctx.values['repo'] as string | undefined;
  const ref = ctx.values['ref'] as string | undefined;
  if (repo && ctx.values['config'])
    throw new PaddockError('PDK_CLI_USAGE', '--config and --repo name two sources: give one');
  if (ref && !repo) throw new PaddockError('PDK_CLI_USAGE', '--ref needs --repo');
  if (repo)
    return {
      kind: 'git',
      url: repo,
      ref: ref ?? 'HEAD',
      cacheDir: join(dataDirOf(ctx), 'reconciler', 'repos'),
    };
  return { kind: 'directory', dir: resolveConfigDir(ctx) };
}

export async function openStoreOf(ctx: CommandContext): Promise<Store> {
  return openStore({ url: (ctx.values['store'] as string | undefined) ?? sqliteStoreUrl(dataDirOf(ctx)) });
}

/** The candidate decision point of each blueprint, compiled on first use. */
export function candidateDecisionPoints(
  state: DesiredState,
  blueprints: ReadonlyMap<string, ResolvedBlueprint>,
): CandidateDecisionPoints {
  const compiled = new Map<string, DecisionPoint>();
  return (name) => {
    const resolved = blueprints.get(name);
    if (!resolved) return undefined;
    let pdp = compiled.get(name);
    if (!pdp) {
      pdp = createDecisionPoint(compilePolicyBundle(policyInputFromBlueprint(resolved, state.policies)), {
        memoEntries: 0,
      });
      compiled.set(name, pdp);
    }
    return pdp;
  };
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0 || days > 3650)
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `--replay takes a number of days (0 < DAYS ≤ 3650), got "${value}"`,
    );
  return days;
}

export async function replayWindow(
  planned: PlannedChange,
  store: Store,
  days: number,
  auditFiles: readonly string[],
  now = Date.now(),
): Promise<ReplayReport> {
  const since = now - Math.round(days * 86_400_000);
  const until = now + 1;
  const fromStore = await recordedDecisionsFromStore(store, since, until);
  const decisions = [...fromStore.decisions];
  const skipped = { ...fromStore.skipped };
  for (const file of auditFiles) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    const fromFile = recordedDecisionsFromChainLines(lines, since, until);
    decisions.push(...fromFile.decisions);
    for (const [why, count] of Object.entries(fromFile.skipped)) skipped[why] = (skipped[why] ?? 0) + count;
  }
  return replayDecisions(
    decisions,
    candidateDecisionPoints(planned.state, planned.blueprints),
    { since, until },
    skipped,
  );
}

export function renderPlan(plan: Plan, source: DesiredStateSource): string {
  const lines = [`plan for ${source.commit}${source.author ? ` (${source.author})` : ''}`];
  const s = plan.summary;
  lines.push(
    `  ${s.users} user${s.users === 1 ? '' : 's'} affected; ${s.create} to create, ${s.rebuild} to rebuild, ${s.revoke} to revoke, ${s.release} bundle${s.release === 1 ? '' : 's'} to release, ${s.adopt} to adopt`,
  );
  if (plan.steps.length === 0) lines.push('  nothing to do: the store matches the desired state');
  for (const [index, step] of plan.steps.entries()) lines.push(`  ${index + 1}. ${describeStep(step)}`);
  if (plan.users.length > 0) {
    lines.push('users affected:');
    for (const user of plan.users) lines.push(`  ${user.id}: ${user.changes.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderReplay(report: ReplayReport): string {
  const lines = [
    `what-if: ${report.decisions} decision${report.decisions === 1 ? '' : 's'} since ${new Date(report.since).toISOString()}, ${report.replayed} replayed, ${report.changed.length} would change`,
  ];
  for (const change of report.changed) {
    lines.push(
      `  ${change.change.padEnd(18)} ${change.action} ${change.resource}  (${change.blueprint}, ${change.user}, ${new Date(change.time).toISOString()}; now ${change.reason}${change.policyIds.length ? ` by ${change.policyIds.join(', ')}` : ''})${change.inexact ? ` [inexact: ${change.inexact}]` : ''}`,
    );
  }
  for (const [why, count] of Object.entries(report.skipped)) lines.push(`  not replayed: ${count} (${why})`);
  return `${lines.join('\n')}\n`;
}

/** `paddock plan`. */
export const planCommand: Command = {
  name: 'plan',
  summary:
    'show what the desired state at a commit would change (workspaces, bundles, users), and replay decisions',
  usage: '[--config DIR | --repo URL [--ref REF]] [--replay DAYS] [--json]',
  help: HELP,
  options: {
    ...SOURCE_OPTIONS,
    ...JSON_OPTION,
    replay: { type: 'string' },
    audit: { type: 'string', multiple: true },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', `paddock plan takes no arguments, got "${ctx.positionals[0]}"`);
    const replay = ctx.values['replay'] as string | undefined;
    const days = replay === undefined ? undefined : parseDays(replay);
    const auditFiles = ((ctx.values['audit'] as string[] | undefined) ?? []).map((file) =>
      resolve(ctx.cwd, file),
    );
    if (auditFiles.length > 0 && days === undefined)
      throw new PaddockError('PDK_CLI_USAGE', '--audit needs --replay DAYS');
    const source = await openSource(sourceSpecOf(ctx));
    const store = await openStoreOf(ctx);
    try {
      const planned = await planSource(source, store);
      const report = days === undefined ? undefined : await replayWindow(planned, store, days, auditFiles);
      if (ctx.values['json']) {
        writeJson(ctx.stdout, {
          commit: source.commit,
          ...(source.author ? { author: source.author } : {}),
          plan: planned.plan,
          ...(report ? { replay: report } : {}),
        });
      } else {
        ctx.stdout.write(renderPlan(planned.plan, source));
        if (report) ctx.stdout.write(renderReplay(report));
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
