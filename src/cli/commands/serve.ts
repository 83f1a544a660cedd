import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireValidRepository } from '../../config/index.ts';
import {
  DEFAULT_SETTINGS_FILES,
  providersNamed,
  requirePostgresUrl,
  startClusterControlPlane,
} from '../../controlplane/cluster-control-plane.ts';
import { DEFAULT_AUDIT_KEY_FILE } from '../../controlplane/cluster/audit-leader.ts';
import { DEFAULT_RELEASE_KEYS_DIR } from '../../controlplane/cluster/cluster-releases.ts';
import { DEFAULT_SERVE_SESSION_KEY_FILE } from '../../controlplane/sessions/session-key.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { writeJson } from '../output.ts';
import { checkWorkspaceSecretStore, SECRETS_OPTION, secretStorePaths } from '../secrets-option.ts';

const HELP = `Runs the control plane as one replica of several on a cluster (what the Helm chart
runs), until SIGTERM: the shared store is PostgreSQL ($${ENV.databaseUrl}, required; SQLite
is refused), the API, console and supervisor channel (/channel) listen on one port on every
interface, the providers are those the profiles name (kubevirt and azure from their settings
files; local only when a profile asks for it), and the reconciler runs on the replica that
leads the \`reconciler\` election (a PostgreSQL advisory lock), applying the desired-state
directory. The leader of the \`audit\` election feeds the audit sinks of paddock.yaml and
signs checkpoints with the key every replica mounts (--audit-key; never generated: a missing
key stops the start with PDK_SERVE_AUDIT_KEY). Sessions are stored with their IdP refresh
token sealed under the session key every replica mounts (--session-key; never generated: a
missing key stops the start with PDK_AUTH_SESSION_KEY), so any replica carries any session.
Policy releases are signed with the keys every replica mounts (--release-keys; never
generated: missing keys stop the start with PDK_SERVE_RELEASE_KEYS) and kept in the store,
so any replica serves any supervisor's release. On SIGTERM it gives up leadership, closes the
channel and the store, and exits.

Options:
${CONFIG_HELP}
      --data-dir DIR            this replica's scratch space (default: $${ENV.dataDir}, else ./.paddock)
      --host ADDR               address to listen on (default 0.0.0.0)
      --port N                  API, console and channel port (default 8080)
      --public-url URL          the origin browsers use (default: $${ENV.publicUrl}, else http://HOST:PORT)
      --approved-by NAME        who approved what the reconciler applies from the directory
      --replica NAME            this replica's name (default: the host name, a pod's name)
      --kubevirt-settings FILE  default ${DEFAULT_SETTINGS_FILES.kubevirt}
      --azure-settings FILE     default ${DEFAULT_SETTINGS_FILES.azure}
      --reconcile-interval MS   pause between reconciler passes on the leader (default 30000)
      --election-retry MS       how often a standby tries the leader lock (default 1000)
      --audit-key FILE          checkpoint signing key (Ed25519 PKCS#8 PEM; default ${DEFAULT_AUDIT_KEY_FILE})
      --audit-checkpoint MS     how often the audit leader checkpoints new events (default 60000)
      --release-keys DIR        policy release signing keys, CHANNEL.online.pem and CHANNEL.signer-N.pem (default ${DEFAULT_RELEASE_KEYS_DIR})
      --session-key FILE        key sealing the stored IdP refresh tokens (32 bytes, base64; default ${DEFAULT_SERVE_SESSION_KEY_FILE})
      --secrets FILE            encrypted secret store the local provider's workspaces inject service
                                credentials from (outside the data directory's workspaces; docs/egress.md)
      --secrets-key FILE        key of the secret store (default: FILE.key)
${JSON_HELP}
`;

/** The console build `npm start` makes (scripts/build-console.ts). */
const CONSOLE_DIR = fileURLToPath(new URL('../../../.paddock/console', import.meta.url));

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max)
    throw new PaddockError('PDK_CLI_USAGE', `--${name} must be ${min}..${max}, got "${String(value)}"`);
  return number;
}

/** `paddock serve`: a control-plane replica on a cluster. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the control plane as one replica on a cluster (PostgreSQL, leader-elected reconciler)',
  usage:
    '[--config DIR] [--data-dir DIR] [--host ADDR] [--port N] [--public-url URL] [--approved-by NAME] [--secrets FILE [--secrets-key FILE]]',
  help: HELP,
  options: {
    ...CONFIG_OPTION,
    ...JSON_OPTION,
    'data-dir': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'public-url': { type: 'string' },
    'approved-by': { type: 'string' },
    replica: { type: 'string' },
    'kubevirt-settings': { type: 'string' },
    'azure-settings': { type: 'string' },
    'reconcile-interval': { type: 'string' },
    'election-retry': { type: 'string' },
    'audit-key': { type: 'string' },
    'audit-checkpoint': { type: 'string' },
    'session-key': { type: 'string' },
    'release-keys': { type: 'string' },
    ...SECRETS_OPTION,
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock serve takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const values = ctx.values as Record<string, string | boolean | undefined>;
    const text = (name: string) => values[name] as string | undefined;
    // First, so a replica pointed at SQLite fails before it reads anything else.
    const databaseUrl = requirePostgresUrl(ctx.env[ENV.databaseUrl]);
    const configDir = resolveConfigDir(ctx);
    const dataDir = resolve(ctx.cwd, text('data-dir') ?? ctx.env[ENV.dataDir] ?? '.paddock');
    const { state } = await requireValidRepository(configDir);
    // An empty value (the chart's default) is unset.
    const publicUrl = text('public-url') || ctx.env[ENV.publicUrl] || undefined;
    if (publicUrl !== undefined && !URL.canParse(publicUrl))
      throw new PaddockError('PDK_CLI_USAGE', `--public-url must be a URL, got "${publicUrl}"`);
    const host = text('host') ?? '0.0.0.0';
    // Sign-in redirects and the CSRF check are made for the public origin: an unroutable default
    // (http://0.0.0.0:8080) would only fail later, in a browser.
    if (!publicUrl && (host === '0.0.0.0' || host === '::'))
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `listening on every interface (${host}) needs --public-url or $${ENV.publicUrl}: the origin browsers use`,
      );
    const consoleDir = existsSync(join(CONSOLE_DIR, 'index.html')) ? CONSOLE_DIR : undefined;
    const kubevirtSettings = text('kubevirt-settings');
    const azureSettings = text('azure-settings');
    const approvedBy = text('approved-by');
    const replica = text('replica');
    const auditKey = text('audit-key');
    const sessionKey = text('session-key');
    const releaseKeys = text('release-keys');
    const secrets = secretStorePaths(ctx.cwd, ctx.values['secrets'], ctx.values['secrets-key']);
    if (secrets) await checkWorkspaceSecretStore(secrets, dataDir);
    const plane = await startClusterControlPlane({
      state,
      configDir,
      dataDir,
      databaseUrl,
      host,
      port: integerOption('port', text('port'), 8080, 0, 65535),
      ...(publicUrl ? { publicOrigin: new URL(publicUrl).origin } : {}),
      consoleDir,
      ...(replica ? { replicaId: replica } : {}),
      settingsFiles: {
        ...(kubevirtSettings ? { kubevirt: resolve(ctx.cwd, kubevirtSettings) } : {}),
        ...(azureSettings ? { azure: resolve(ctx.cwd, azureSettings) } : {}),
      },
      ...(approvedBy ? { approvedBy } : {}),
      reconcileIntervalMs: integerOption(
        'reconcile-interval',
        text('reconcile-interval'),
        30_000,
        10,
        86_400_000,
      ),
      electionRetryMs: integerOption('election-retry', text('election-retry'), 1000, 50, 60_000),
      ...(auditKey ? { auditKeyFile: resolve(ctx.cwd, auditKey) } : {}),
      ...(sessionKey ? { sessionKeyFile: resolve(ctx.cwd, sessionKey) } : {}),
      ...(releaseKeys ? { releaseKeysDir: resolve(ctx.cwd, releaseKeys) } : {}),
      ...(secrets ? { secrets } : {}),
      auditCheckpointMs: integerOption('audit-checkpoint', text('audit-checkpoint'), 60_000, 100, 86_400_000),
      env: ctx.env,
    });
    try {
      const summary = {
        replica: plane.replicaId,
        url: plane.server.url,
        channel: `${plane.server.publicOrigin.replace(/^http/, 'ws')}/channel`,
        providers: [...providersNamed(state)].sort(),
        leader: plane.election.isLeader,
      };
      if (values['json']) writeJson(ctx.stdout, summary);
      else
        ctx.stdout.write(
          `paddock serve: replica ${summary.replica} on ${summary.url} (providers: ${summary.providers.join(', ')}; ${summary.leader ? 'leader' : 'standby'})\n`,
        );
      await terminated();
      return 0;
    } finally {
      await plane.close();
    }
  },
};

/** Resolves on the first SIGTERM (what the kubelet sends) or SIGINT. */
function terminated(): Promise<void> {
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
