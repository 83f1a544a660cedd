import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { AuditChainWriter, type OcsfEvent, ocsfEventCheckFromEnv } from '../../audit/index.ts';
import { loadRepository, POLICY_ENTRIES } from '../../config/index.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import {
  assertSecretStoreOutside,
  type GitHookChange,
  localLogin,
  mcpServerPlans,
  openEncryptedFileSecretStore,
  type RunningSandbox,
  runStandalone,
  type SecretStore,
} from '../../supervisor/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { formatError } from '../output.ts';
import { SECRETS_OPTION, secretStorePaths } from '../secrets-option.ts';
import { type StandaloneReviews, startStandaloneReviews } from '../standalone-reviews.ts';
import { loadRunBlueprint, profileLimits } from './run-inputs.ts';

const HELP = `Runs CMD inside a sandbox built from the blueprint (docs/sandbox.md): its own user,
mount, pid, ipc, uts and network namespaces, a dedicated unprivileged host uid, a seccomp
filter, Landlock, rlimits, a scrubbed environment, and a network whose only way out is the
egress gateway (docs/standalone.md): only the blueprint's spec.services are reachable, TLS to
inspected services is terminated with a per-run CA that the sandbox trusts (SSL_CERT_FILE and
friends name a bundle of the system CAs plus that CA), and a credentialed service gets its
secret injected by the gateway while the sandbox holds only a PADDOCK_CREDENTIAL_* placeholder.
A policy decision socket at /run/paddock/pdp.sock answers from the blueprint's compiled bundle.
When the blueprint names MCP servers (spec.tools.mcp), the MCP gateway fronts them as one
server: the harnesses' managed settings name the shim /etc/paddock-mcp-shim (docs/mcp.md).
Writes a review gate covers are held for \`paddock review\` (docs/reviews.md).

--workdir (default: the current directory) appears as /workspace, the working directory.
It is writable only if the blueprint's dataScope.write names /workspace; protected paths
(.claude/, .git/hooks, .git/config, .mcp.json, shell rc files, …) stay read-only. Files the
user owns in it are shown as the sandbox's own (an idmapped mount), so edits keep the
user's ownership; root-owned files are never made writable. Needs root.

--blueprint is a blueprint's metadata.name in the desired-state directory, or a path to a
blueprint file (anything that is not a plain name); a file's parents come from --config.
The effective blueprint (its extends chain applied) decides the scope and any weaker-mode
waiver (spec.sandbox.allowMissing, inherited like every other field).

--profile names a profile in the desired-state directory whose spec.limits bound the sandbox
(processes, open files, memory: default its size.memoryMiB). Without it the standalone
defaults apply: 512 processes, 4096 open files, 4096 MiB.

--secrets FILE is an encrypted secret store (AES-256-GCM, docs/egress.md) holding the
secrets the blueprint's services name in \`credential\`; --secrets-key FILE is its key (32 raw
bytes, or a passphrase file; default FILE.key). Without --secrets, requests to credentialed
services fail with 502 (the gateway has nothing to inject).

Standard input, output and error (and a terminal) pass through.

Exit codes: CMD's own; 128+N when signal N ended it; 125 when the sandbox could not be
started (the error names the missing feature or unsafe scope); 126/127 when CMD could not
be executed or found; 2 usage error.

Options:
  -b, --blueprint NAME|FILE  the blueprint to run under (required)
${CONFIG_HELP}
  -p, --profile NAME       take the sandbox limits from this profile
  -w, --workdir DIR        host directory shown as /workspace (default: current directory)
      --audit FILE         append the run's OCSF events to this hash-chained log
      --secrets FILE       encrypted secret store for the services' credentials
      --secrets-key FILE   key of the secret store (default: FILE.key)
`;

/** Tells the user which git hooks the run wrote: they run as the user on the next git command. */
/**
 * The launcher idmaps only an unprivileged owner's workspace (files the agent creates must
 * never be root's on the host), so a root-owned --workdir stays read-only to the agent even
 * when the blueprint lets it write /workspace. Say so before the run, not as EACCES inside it.
 */
function warnRootOwnedWorkdir(
  stderr: NodeJS.WritableStream,
  workdir: string,
  writes: readonly string[] | undefined,
): void {
  const writesWorkspace = (writes ?? []).some(
    (path) => path === '/workspace' || path.startsWith('/workspace/'),
  );
  if (!writesWorkspace || statSync(workdir, { throwIfNoEntry: false })?.uid !== 0) return;
  stderr.write(
    `warning: --workdir ${workdir} is owned by root, so /workspace is read-only to the agent ` +
      "(only an unprivileged owner's files are mapped to the sandbox user); run from a directory your user owns, " +
      `or chown -R USER ${workdir}\n`,
  );
}

function warnGitHooks(stderr: NodeJS.WritableStream, changes: readonly GitHookChange[]): void {
  if (changes.length === 0) return;
  stderr.write(
    `warning: the sandbox wrote git hooks or code-running git config; inspect before using git there:\n${changes
      .slice(0, 20)
      .map((change) => `  ${change.path} (${change.kind}, ${change.change})\n`)
      .join('')}${changes.length > 20 ? `  … and ${changes.length - 20} more (see the audit log)\n` : ''}`,
  );
}

/**
 * The --secrets store, decrypted once; its values stay in this (root) process. The store and
 * its key must lie outside --workdir: the user's files there appear as the sandbox's own, so
 * the agent could read the key and decrypt every secret.
 */
async function openSecrets(
  cwd: string,
  workdir: string,
  file: unknown,
  keyFile: unknown,
): Promise<SecretStore | undefined> {
  const store = secretStorePaths(cwd, file, keyFile);
  if (!store) return undefined;
  assertSecretStoreOutside(store, [{ label: '--workdir', path: workdir }]);
  return openEncryptedFileSecretStore(store);
}

/**
 * Forwards termination signals to the sandbox; a terminal's ^C already reaches it directly.
 * Handlers are installed before the launch: a signal that arrives while the sandbox is being
 * set up is held and delivered as soon as it runs (instead of killing paddock half-way through
 * its setup, leaving the network and placeholders for the stale sweep).
 */
function forwardSignals(interactive: boolean): { started(sandbox: RunningSandbox): void; stop(): void } {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGINT'];
  let running: RunningSandbox | undefined;
  const held: NodeJS.Signals[] = [];
  const deliver = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && interactive) return;
    if (running) running.kill(signal);
    else held.push(signal);
  };
  const handlers = signals.map((signal) => {
    const handler = () => deliver(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return {
    started(sandbox) {
      running = sandbox;
      for (const signal of held.splice(0)) sandbox.kill(signal);
    },
    stop() {
      for (const off of handlers) off();
    },
  };
}

/** `paddock run --blueprint B -- CMD…`: runs one command in a sandbox (standalone supervisor). */
export const runCommand: Command = {
  name: 'run',
  summary: 'run a command inside a sandbox built from a blueprint',
  usage:
    '--blueprint NAME|FILE [--config DIR] [--profile NAME] [--workdir DIR] [--audit FILE] [--secrets FILE [--secrets-key FILE]] -- CMD [ARGS...]',
  help: HELP,
  passThrough: true,
  options: {
    blueprint: { type: 'string', short: 'b' },
    ...CONFIG_OPTION,
    profile: { type: 'string', short: 'p' },
    workdir: { type: 'string', short: 'w' },
    audit: { type: 'string' },
    ...SECRETS_OPTION,
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
    let reviews: StandaloneReviews | undefined;
    const forwarding = forwardSignals(isatty(0));
    try {
      const loaded = await loadRepository(configDir);
      const { blueprint, resolved, waived, file } = await loadRunBlueprint(target, loaded, ctx.cwd);
      const secrets = await openSecrets(ctx.cwd, workdir, ctx.values['secrets'], ctx.values['secrets-key']);
      const profile = ctx.values['profile'] as string | undefined;
      const limits = profile === undefined ? undefined : profileLimits(loaded, profile);
      const policyPaths = [...(file ? [file] : []), ...POLICY_ENTRIES.map((entry) => join(configDir, entry))];
      writer = auditFile
        ? await AuditChainWriter.open(resolve(ctx.cwd, auditFile), { checkEvent: ocsfEventCheckFromEnv() })
        : undefined;
      const sink = writer;
      const user = localLogin(ctx.env);
      // A blueprint with review gates gets the run's review queue, served for `paddock review`.
      if (resolved.blueprint.spec.reviewGates) {
        reviews = await startStandaloneReviews({
          requester: { id: user },
          audit: sink ? (event) => sink.append(event) : async () => {},
        });
      }
      warnRootOwnedWorkdir(ctx.stderr, workdir, blueprint.spec.dataScope?.write);
      const result = await runStandalone({
        command: ctx.positionals,
        workdir,
        dataScope: blueprint.spec.dataScope ?? { read: ['/workspace'], write: [], deny: [] },
        allowMissing: waived,
        limits,
        policyPaths,
        hostEnv: ctx.env,
        resolved,
        policies: loaded.state.policies,
        mcpServers: mcpServerPlans(resolved.blueprint, (name) => loaded.state.services.get(name)?.value),
        ...(secrets ? { secrets } : {}),
        user,
        ...(reviews ? { reviewGate: reviews.gate, workspaceId: reviews.workspaceId } : {}),
        audit: sink ? (event: OcsfEvent) => sink.append(event) : undefined,
        onStarted: (sandbox) => forwarding.started(sandbox),
        // The exit status is known once the command and its audit events are done; the kernel
        // frees the network after this process has exited (a detached teardown).
        detachNetworkTeardown: true,
      });
      warnGitHooks(ctx.stderr, result.gitHooksWritten);
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
      forwarding.stop();
      await reviews?.close();
      await writer?.close();
    }
  },
};
