import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireValidRepository } from '../../config/index.ts';
import { startLocalControlPlane } from '../../controlplane/local-control-plane.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import { probeSandboxFeatures } from '../../supervisor/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { writeJson } from '../output.ts';
import { checkWorkspaceSecretStore, SECRETS_OPTION, secretStorePaths } from '../secrets-option.ts';
import { displayPath, summarize } from './validate.ts';

const HELP = `Brings Paddock up locally from a desired-state directory and keeps it up until
interrupted (Ctrl-C): validates the directory, opens the control-plane store under the data
directory (SQLite, migrated), registers the embedded identity provider's demo users, starts
the control plane (sign-in, API, console, terminal broker, review inbox), and starts the
first demo user's workspace: a supervisor that dials the control plane and opens sandboxed
terminals. It prints the console URL and the demo sign-ins. Running it again is safe.

--secrets FILE is the encrypted secret store (docs/egress.md) every local workspace's egress
gateway injects the blueprint's service credentials from; --secrets-key FILE is its key
(default FILE.key). Both must lie outside the data directory's workspaces (a sandbox could
read them there). Without --secrets, requests to credentialed services fail closed.

With --check (the default when CI is set), it brings everything up, checks that the console
and sign-in answer and the demo workspace's supervisor is connected, then stops.

Options:
${CONFIG_HELP}
      --data-dir DIR  where the store, audit log, recordings and workspaces live
                      (default: $${ENV.dataDir}, else ./.paddock)
      --port N        the console's port on 127.0.0.1 (default 8080; 0 picks a free one)
      --check         bring up, check, stop (default when CI is set)
      --secrets FILE  encrypted secret store for the workspaces' service credentials
      --secrets-key FILE  key of the secret store (default: FILE.key)
${JSON_HELP}
`;

/** The console build `npm start` makes (scripts/build-console.ts). */
const CONSOLE_DIR = fileURLToPath(new URL('../../../.paddock/console', import.meta.url));

function parsePort(value: string | undefined): number {
  if (value === undefined) return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new PaddockError('PDK_CLI_USAGE', `--port must be 0..65535, got "${value}"`);
  return port;
}

/** `paddock up`: what `npm start` runs. */
export const upCommand: Command = {
  name: 'up',
  summary: 'bring Paddock up locally: control plane, sign-in, console and a demo workspace',
  usage: '[--config DIR] [--data-dir DIR] [--port N] [--check] [--secrets FILE [--secrets-key FILE]]',
  help: HELP,
  options: {
    ...CONFIG_OPTION,
    ...JSON_OPTION,
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    check: { type: 'boolean' },
    ...SECRETS_OPTION,
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) {
      throw new PaddockError('PDK_CLI_USAGE', `paddock up takes no arguments, got "${ctx.positionals[0]}"`);
    }
    const configDir = resolveConfigDir(ctx);
    const dataDir = resolve(
      ctx.cwd,
      (ctx.values['data-dir'] as string | undefined) ?? ctx.env[ENV.dataDir] ?? '.paddock',
    );
    const port = parsePort(ctx.values['port'] as string | undefined);
    const check = ctx.values['check'] === true || Boolean(ctx.env['CI']);
    const secrets = secretStorePaths(ctx.cwd, ctx.values['secrets'], ctx.values['secrets-key']);
    if (secrets) await checkWorkspaceSecretStore(secrets, dataDir);
    const { state } = await requireValidRepository(configDir);
    const missing = probeSandboxFeatures().filter((feature) => feature.required && feature.status !== 'ok');
    if (missing.length > 0)
      throw new PaddockError(
        'PDK_SANDBOX_FEATURE_MISSING',
        `this host cannot run agent sandboxes, missing: ${missing.map((feature) => feature.name).join(', ')} (details: npx paddock doctor)`,
      );
    const consoleDir = existsSync(join(CONSOLE_DIR, 'index.html')) ? CONSOLE_DIR : undefined;
    const plane = await startLocalControlPlane({
      state,
      configDir,
      dataDir,
      port,
      consoleDir,
      ...(secrets ? { secrets } : {}),
    });
    try {
      const result = plane.bootstrap;
      const workspace = result.workspace ? await plane.lifecycle.get(result.workspace.id) : undefined;
      const demoUsers = state.platform?.value.spec.identity.demoUsers ?? [];
      const summary = {
        configDir,
        dataDir,
        url: plane.server.url,
        console: consoleDir !== undefined,
        storeUrl: result.storeUrl,
        schemaVersion: result.schemaVersion,
        users: result.users,
        workspace,
        auditVerify: `npx paddock audit verify --data-dir ${displayPath(ctx.cwd, dataDir)}`,
        // Workspaces enforce signed releases; the reconciler releases each change of the directory.
        releases: {
          channel: plane.releases.releaseChannel,
          release: plane.releases.repository.status(plane.releases.releaseChannel).targetsVersion,
          status: `npx paddock policy status --data-dir ${displayPath(ctx.cwd, dataDir)}`,
        },
      };
      if (check) await checkUp(plane.server.url, consoleDir !== undefined, workspace?.connected === true);
      if (ctx.values['json']) writeJson(ctx.stdout, summary);
      else {
        const show = (path: string) => displayPath(ctx.cwd, path);
        const out = (label: string, text: string) => ctx.stdout.write(`  ${label.padEnd(15)}${text}\n`);
        ctx.stdout.write('paddock up\n');
        out('desired state', `${show(configDir)}: valid (${summarize(state)})`);
        out(
          'store',
          `${result.storeUrl.startsWith('sqlite:') ? `sqlite:${show(result.storeUrl.slice(7))}` : 'postgres'} (schema version ${result.schemaVersion})`,
        );
        out('audit', `in the store: hash-chained, signed checkpoints (${summary.auditVerify})`);
        out(
          'policy',
          `signed releases, ${summary.releases.channel} at release ${summary.releases.release}; edits to the desired state are released as they are saved (${summary.releases.status})`,
        );
        if (workspace)
          out(
            'workspace',
            `${workspace.id} for ${workspace.owner}: ${workspace.state}${workspace.connected ? ', supervisor connected' : ''}`,
          );
        out(
          'console',
          consoleDir ? plane.server.url : `${plane.server.url} (API only: run npm run build:console)`,
        );
        if (demoUsers.length > 0) {
          out('sign in as', "any demo user on the embedded IdP's page (development only, no password):");
          for (const user of demoUsers)
            ctx.stdout.write(`    ${user.email.padEnd(22)} ${user.groups.join(', ')}\n`);
        }
        ctx.stdout.write(
          check ? 'checked: console, sign-in and workspace answer; stopping\n' : 'Ctrl-C stops it.\n',
        );
      }
      if (!check) await interrupted();
      return 0;
    } finally {
      await plane.close();
    }
  },
};

/** Resolves on the first SIGINT or SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** What --check asserts: sign-in is configured, the console is served, the workspace is connected. */
async function checkUp(url: string, withConsole: boolean, connected: boolean): Promise<void> {
  const fail = (what: string) => {
    throw new PaddockError('PDK_UP_CHECK', what);
  };
  const config = await fetch(new URL('api/auth/config', url));
  if (!config.ok) fail(`GET /api/auth/config answered ${config.status}`);
  await config.arrayBuffer();
  if (withConsole) {
    const page = await fetch(url);
    const html = await page.text();
    if (!page.ok || !html.includes('<div id="root">'))
      fail(`GET / answered ${page.status} without the console`);
  }
  if (!connected) fail("the demo workspace's supervisor did not connect");
}
