import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OcsfEvent } from '../../audit/index.ts';
import type { DesiredState } from '../../config/index.ts';
import {
  ChannelServer,
  CONTROL_PLANE_SOURCE,
  IdentityRegistry,
  type Store,
  WorkspaceLifecycle,
} from '../../controlplane/index.ts';
import { blueprintForOwner } from '../../controlplane/local-control-plane.ts';
import {
  describeStep,
  lifecycleActions,
  openSource,
  type ReconcileOnceOptions,
  type ReconcileOutcome,
  type SourceSpec,
  checkoutDirFor,
  reconcileOnce,
  watchAndApply,
} from '../../controlplane/reconciler/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { LocalProvider } from '../../providers/index.ts';
import { type Command, type CommandContext, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';
import { dataDirOf, openStoreOf, renderPlan, SOURCE_HELP, SOURCE_OPTIONS, sourceSpecOf } from './plan.ts';

const HELP = `Carries out the plan \`paddock plan\` shows, through the workspace lifecycle (each
change the same audited transition an admin's action makes) and the policy release. First it
finishes an apply a crash interrupted (recorded in the store with its commit and per-step
progress), then plans afresh and applies. Applying the same commit twice does nothing the
second time. Each bundle release is recorded as a policy.released audit event naming the
commit and who approved it: --approved-by, else the commit's verified signer, else its author.

A running workspace belongs to the \`paddock up\` that started it: a step that would rebuild or
revoke one stops the apply (PDK_RECONCILE_RUNNING) until it is stopped; the reconciler inside
the running control plane has no such limit.

With --watch it keeps polling the source and applies each new commit until interrupted.

Exit codes: 0 applied (or nothing to do), 1 a step failed (the apply stays open; run again to
resume) or the repository is invalid, 2 usage error.

Options:
${SOURCE_HELP}
      --approved-by ID  who approved this apply (default: the commit's signer or author)
      --watch           keep polling and applying until interrupted
      --interval SEC    between polls with --watch (default 30)
${JSON_HELP}
`;

interface ApplyParts {
  readonly options: ReconcileOnceOptions;
  close(): Promise<void>;
}

/** The lifecycle this process can act through: the store, the local provider, a private channel. */
async function applyParts(
  ctx: CommandContext,
  store: Store,
  spec: SourceSpec,
  stateRef: { state?: DesiredState },
): Promise<ApplyParts> {
  const dataDir = dataDirOf(ctx);
  const audit = (event: OcsfEvent) => store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [event]);
  const socketDir = await mkdtemp(join(tmpdir(), 'paddock-apply-'));
  const identities = new IdentityRegistry({ store, file: join(dataDir, 'channel-identities.json') });
  const channel = await ChannelServer.start({
    registry: identities,
    listen: { path: join(socketDir, 'channel.sock') },
  });
  const provider = new LocalProvider({ dataDir, audit });
  const groups = new Map((await store.listUsers()).map((user) => [user.id, user.groups]));
  const lifecycle = new WorkspaceLifecycle({
    store,
    channel,
    identities,
    providers: new Map([['local', provider]]),
    // Supervisors read their blueprint from the desired state being applied.
    configDir: spec.kind === 'directory' ? spec.dir : checkoutDirFor(spec.url, spec.cacheDir),
    blueprintFor: (workspace) => {
      if (!stateRef.state) throw new PaddockError('PDK_INTERNAL', 'no desired state loaded');
      return blueprintForOwner(stateRef.state, workspace, groups.get(workspace.owner) ?? []);
    },
    audit,
  });
  const json = Boolean(ctx.values['json']);
  return {
    options: {
      store,
      audit,
      // The lifecycle asks for each workspace's blueprint from the state being applied.
      onState: (state) => {
        stateRef.state = state;
      },
      onPlanned: (planned) => {
        if (!json) ctx.stdout.write(renderPlan(planned.plan, planned.source));
      },
      actions: lifecycleActions(lifecycle, { refuseRunning: true }),
      onStep: (progress) => {
        if (!json)
          ctx.stdout.write(
            `  ${progress.outcome === 'done' ? '✓' : '·'} [${progress.index + 1}/${progress.total}] ${describeStep(progress.step)}${progress.outcome === 'skipped' ? ' (already done)' : ''}\n`,
          );
      },
    },
    async close() {
      await provider.close();
      await channel.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

function report(ctx: CommandContext, outcome: ReconcileOutcome): void {
  if (ctx.values['json']) {
    writeJson(ctx.stdout, {
      commit: outcome.planned.source.commit,
      ...(outcome.resumed ? { resumed: outcome.resumed } : {}),
      plan: outcome.planned.plan,
      ...(outcome.applied ? { applied: outcome.applied } : {}),
    });
    return;
  }
  if (outcome.resumed)
    ctx.stdout.write(
      `resumed apply ${outcome.resumed.applyId} of ${outcome.resumed.commit}: ${outcome.resumed.ran} remaining step(s) done\n`,
    );
  if (!outcome.applied) {
    ctx.stdout.write(
      `${outcome.planned.source.commit}: nothing to do, the store matches the desired state\n`,
    );
    return;
  }
  ctx.stdout.write(
    `applied ${outcome.applied.applyId} of ${outcome.applied.commit}, approved by ${outcome.applied.approvedBy}: ${outcome.applied.steps} step(s)\n`,
  );
}

/** `paddock apply`. */
export const applyCommand: Command = {
  name: 'apply',
  summary: 'carry out the plan: create, rebuild, revoke workspaces and release bundles (resumable)',
  usage: '[--config DIR | --repo URL [--ref REF]] [--approved-by ID] [--watch]',
  help: HELP,
  options: {
    ...SOURCE_OPTIONS,
    ...JSON_OPTION,
    'approved-by': { type: 'string' },
    watch: { type: 'boolean' },
    interval: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock apply takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const spec = sourceSpecOf(ctx);
    const approvedBy = ctx.values['approved-by'] as string | undefined;
    const intervalText = ctx.values['interval'] as string | undefined;
    const intervalMs = intervalText === undefined ? 30_000 : Number(intervalText) * 1000;
    if (!Number.isFinite(intervalMs) || intervalMs < 1000)
      throw new PaddockError('PDK_CLI_USAGE', `--interval takes seconds (at least 1), got "${intervalText}"`);
    const store = await openStoreOf(ctx);
    const stateRef: { state?: DesiredState } = {};
    const parts = await applyParts(ctx, store, spec, stateRef);
    try {
      if (ctx.values['watch']) {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        await watchAndApply({
          ...parts.options,
          source: spec,
          ...(approvedBy ? { approvedBy } : {}),
          intervalMs,
          signal: stop.signal,
          onReconciled: (outcome) => report(ctx, outcome),
          onError: (error) => ctx.stderr.write(`reconcile failed (retrying): ${(error as Error).message}\n`),
        });
        return 0;
      }
      const outcome = await reconcileOnce(await openSource(spec), approvedBy, parts.options);
      report(ctx, outcome);
      return 0;
    } finally {
      await parts.close();
      await store.close();
    }
  },
};
