import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { AuditChainWriter, type OcsfEvent, ocsfEventCheckFromEnv } from '../../audit/index.ts';
import {
  type Blueprint,
  loadRepository,
  readBlueprintFile,
  resolveBlueprint,
  withBlueprint,
} from '../../config/index.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { type OptionalSandboxFeature, type RunningSandbox, runSandbox } from '../../supervisor/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { formatError } from '../output.ts';

const HELP = `Runs CMD inside a sandbox built from the blueprint (docs/sandbox.md): its own user,
mount, pid, ipc, uts and network namespaces, a dedicated unprivileged host uid, a seccomp
filter, Landlock, rlimits, a scrubbed environment, and a network whose only way out is the
supervisor's egress listener (which, until the egress gateway is configured, refuses all).

--workdir (default: the current directory) appears as /workspace, the working directory.
It is writable only if the blueprint's dataScope.write names /workspace; protected paths
(.claude/, .git/hooks, .git/config, .mcp.json, shell rc files, …) stay read-only. Files the
user owns in it are shown as the sandbox's own (an idmapped mount), so edits keep the
user's ownership; root-owned files are never made writable. Needs root.

--blueprint is a blueprint's metadata.name in the desired-state directory, or a path to a
blueprint file (anything that is not a plain name); a file's parents come from --config.

Standard input, output and error (and a terminal) pass through.

Exit codes: CMD's own; 128+N when signal N ended it; 125 when the sandbox could not be
started (the error names the missing feature or unsafe scope); 126/127 when CMD could not
be executed or found; 2 usage error.

Options:
  -b, --blueprint NAME|FILE  the blueprint to run under (required)
${CONFIG_HELP}
  -w, --workdir DIR        host directory shown as /workspace (default: current directory)
      --audit FILE         append the run's OCSF events to this hash-chained log
`;

/** A blueprint name is a DNS label; anything else is a file path (as in `blueprint explain`). */
const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Desired-state entries an agent must never edit, when the repository is inside its scope. */
const POLICY_ENTRIES = [
  'paddock.yaml',
  'paddock.yml',
  'blueprints',
  'profiles',
  'services',
  'assignments.yaml',
  'policies',
];

/**
 * The effective blueprint (its `extends` chain applied) and the layers it waives. A waiver
 * (spec.sandbox) counts only where the blueprint being run sets it itself: a weaker sandbox is
 * never inherited.
 */
async function loadBlueprint(
  target: string,
  configDir: string,
  cwd: string,
): Promise<{ blueprint: Blueprint; waived: readonly OptionalSandboxFeature[]; file?: string }> {
  const { state } = await loadRepository(configDir);
  if (BLUEPRINT_NAME.test(target) && !existsSync(resolve(cwd, target))) {
    const blueprint = resolveBlueprint(state, target).blueprint;
    const own = state.blueprints.get(target)?.value.spec.sandbox?.allowMissing ?? [];
    return { blueprint, waived: own };
  }
  const document = await readBlueprintFile(state.root, target, cwd);
  const resolved = resolveBlueprint(withBlueprint(state, document), document.value.metadata.name);
  return {
    blueprint: resolved.blueprint,
    waived: document.value.spec.sandbox?.allowMissing ?? [],
    file: resolve(cwd, target),
  };
}

/** Forwards termination signals to the sandbox; a terminal's ^C already reaches it directly. */
function forwardSignals(sandbox: RunningSandbox, interactive: boolean): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGINT'];
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (!(signal === 'SIGINT' && interactive)) sandbox.kill(signal);
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => {
    for (const off of handlers) off();
  };
}

/** `paddock run --blueprint B -- CMD…`: runs one command in a sandbox (standalone supervisor). */
export const runCommand: Command = {
  name: 'run',
  summary: 'run a command inside a sandbox built from a blueprint',
  usage: '--blueprint NAME|FILE [--config DIR] [--workdir DIR] [--audit FILE] -- CMD [ARGS...]',
  help: HELP,
  passThrough: true,
  options: {
    blueprint: { type: 'string', short: 'b' },
    ...CONFIG_OPTION,
    workdir: { type: 'string', short: 'w' },
    audit: { type: 'string' },
  },
  async run(ctx) {
    const target = ctx.values['blueprint'] as string | undefined;
    if (!target) throw new PaddockError('PDK_CLI_USAGE', 'paddock run needs --blueprint NAME|FILE');
    if (ctx.positionals.length === 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock run needs a command after --');
    const configDir = resolveConfigDir(ctx);
    const workdir = resolve(ctx.cwd, (ctx.values['workdir'] as string | undefined) ?? '.');
    const auditFile = ctx.values['audit'] as string | undefined;
    let writer: AuditChainWriter | undefined;
    let stopForwarding = () => {};
    try {
      const { blueprint, waived, file } = await loadBlueprint(target, configDir, ctx.cwd);
      const policyPaths = [...(file ? [file] : []), ...POLICY_ENTRIES.map((entry) => join(configDir, entry))];
      writer = auditFile
        ? await AuditChainWriter.open(resolve(ctx.cwd, auditFile), { checkEvent: ocsfEventCheckFromEnv() })
        : undefined;
      const sink = writer;
      const interactive = isatty(0);
      const result = await runSandbox({
        command: ctx.positionals,
        workdir,
        dataScope: blueprint.spec.dataScope ?? { read: ['/workspace'], write: [], deny: [] },
        allowMissing: waived,
        policyPaths,
        hostEnv: ctx.env,
        blueprint: { name: blueprint.metadata.name, version: blueprint.metadata.version },
        audit: sink ? (event: OcsfEvent) => sink.append(event) : undefined,
        onStarted: (sandbox) => {
          stopForwarding = forwardSignals(sandbox, interactive);
        },
      });
      for (const feature of result.weakened) {
        ctx.stderr.write(
          `warning: sandbox ran without ${feature} (waived by the blueprint's spec.sandbox.allowMissing)\n`,
        );
      }
      return result.exitCode;
    } catch (error) {
      if (isPaddockError(error) && error.code.startsWith('PDK_SANDBOX_')) {
        ctx.stderr.write(formatError(error, false));
        return 125;
      }
      throw error;
    } finally {
      stopForwarding();
      await writer?.close();
    }
  },
};
