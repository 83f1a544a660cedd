import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MetadataKind, type Root } from '@tufjs/models';
import pg from 'pg';
import {
  ClusterBus,
  DEFAULT_RELEASE_KEYS_DIR,
  editStoreReleases,
  readStoreReleases,
  rotateStoreRoot,
  type StoreReleaseEdit,
} from '../../controlplane/cluster/index.ts';
import { openStore, type Store, sqliteStoreUrl } from '../../controlplane/index.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import {
  type ChannelStatus,
  compileCommit,
  fileSigner,
  openReleaseRepository,
  policyStatuses,
  type ReleaseOutcome,
  type ReleaseRepository,
  readReleaseRepository,
  releaseInput,
  type Signer,
  type WorkspacePolicyStatus,
} from '../../controlplane/releases/index.ts';
import { readMetadata } from '../../controlplane/releases/metadata.ts';
import { type Command, type CommandContext, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';

// `paddock policy status | release | promote | cosign | rotate-root`: the release repository
// under the control plane's data directory (DATA_DIR/releases), as docs/releases.md describes
// it; all but release also work on a cluster's store (--database-url, cluster/store-releases.ts).

const DATA_DIR_OPTION = { 'data-dir': { type: 'string' } } as const;
const DATA_DIR_HELP = `      --data-dir DIR     the control plane's data directory (default: $${ENV.dataDir}, else ./.paddock)`;
const STORE_OPTIONS = { ...DATA_DIR_OPTION, 'database-url': { type: 'string' } } as const;
const STORE_HELP = `${DATA_DIR_HELP}
      --database-url URL a cluster's store instead (paddock serve): postgres://… (default:
                         $${ENV.databaseUrl} when --data-dir is not given); not with --data-dir`;
const RELEASE_KEYS_OPTION = { 'release-keys': { type: 'string' } } as const;
const RELEASE_KEYS_HELP = `      --release-keys DIR with --database-url: the directory holding CHANNEL.online.pem, the key
                         that signs snapshot and timestamp (default: ${DEFAULT_RELEASE_KEYS_DIR},
                         where paddock serve mounts the Secret)`;

/** The cluster store's URL when the command works on one (--database-url, else the environment), else undefined. */
function databaseUrl(ctx: CommandContext): string | undefined {
  const dataDir = ctx.values['data-dir'] as string | undefined;
  const flag = ctx.values['database-url'] as string | undefined;
  if (dataDir !== undefined && flag !== undefined)
    throw new PaddockError(
      'PDK_CLI_USAGE',
      "--data-dir and --database-url exclude each other: give a data directory (paddock up) or a cluster's store (paddock serve)",
    );
  const url = dataDir === undefined ? (flag ?? ctx.env[ENV.databaseUrl]) : undefined;
  if (url === undefined || url === '') {
    if (ctx.values['release-keys'] !== undefined)
      throw new PaddockError('PDK_CLI_USAGE', '--release-keys is only for a cluster store (--database-url)');
    return undefined;
  }
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `--database-url must be a postgres:// URL (the store paddock serve uses), not ${url.split(':')[0]}:`,
    );
  return url;
}

/** Runs `work` with a pool on the cluster's store, closed after. */
async function withStorePool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'paddock-policy' });
  pool.on('error', () => undefined);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Runs a promote, cosign or root rotation on the cluster's store as `signers` (the operator's key
 * files, given with --sign-with: a cluster has no default key files to sign with).
 */
async function onStore<T>(
  ctx: CommandContext,
  url: string,
  channel: string,
  change: (edit: StoreReleaseEdit) => Promise<T>,
): Promise<T> {
  const files = (ctx.values['sign-with'] as string[] | undefined) ?? [];
  if (files.length === 0)
    throw new PaddockError(
      'PDK_CLI_USAGE',
      "with --database-url, --sign-with FILE is required (the signer's key: a cluster has no default key files)",
    );
  const signers = files.map((file) => storeKeyFile(ctx, file));
  const onlineKeysDir = resolve(
    ctx.cwd,
    (ctx.values['release-keys'] as string | undefined) ?? DEFAULT_RELEASE_KEYS_DIR,
  );
  return withStorePool(url, async (pool) => {
    const bus = new ClusterBus({ url });
    try {
      return await change({ pool, bus, onlineKeysDir, channel, signers });
    } finally {
      await bus.close();
    }
  });
}

/** A signing key file for the store: group-readable as the kubelet mounts a Secret (`kubectl exec`), never world-readable. */
function storeKeyFile(ctx: CommandContext, file: string): Signer {
  return fileSigner(resolve(ctx.cwd, file), { groupReadable: true });
}

const SIGN_HELP = `      --sign-with FILE   an Ed25519 signing key (PEM, mode 0600); repeat for several signers.
                         Default: the channel's own key files under DATA_DIR/releases/keys/CHANNEL`;

function releasesDir(ctx: CommandContext): string {
  const dataDir = (ctx.values['data-dir'] as string | undefined) ?? ctx.env[ENV.dataDir] ?? '.paddock';
  return resolve(ctx.cwd, dataDir, 'releases');
}

function signersFrom(ctx: CommandContext, repository: ReleaseRepository, channel: string): Signer[] {
  const files = (ctx.values['sign-with'] as string[] | undefined) ?? [];
  return files.length > 0
    ? files.map((file) => fileSigner(resolve(ctx.cwd, file)))
    : repository.defaultSigners(channel);
}

function printOutcome(ctx: CommandContext, outcome: ReleaseOutcome): number {
  if (ctx.values['json']) {
    writeJson(ctx.stdout, outcome);
    return 0;
  }
  if (outcome.status === 'pending') {
    ctx.stdout.write(
      `${outcome.channel}: release ${outcome.version} waits for signatures (${outcome.signatures} of ${outcome.needed}); another signer runs \`paddock policy cosign --channel ${outcome.channel} --sign-with KEYFILE\`\n`,
    );
    return 0;
  }
  const verb = outcome.status === 'published' ? 'published' : 'unchanged at';
  ctx.stdout.write(`${outcome.channel}: ${verb} release ${outcome.version}\n`);
  for (const target of outcome.targets)
    ctx.stdout.write(
      `  ${target.name.padEnd(24)} ${target.bundleId.padEnd(36)} ${target.sha256.slice(0, 12)}  ${target.commit.slice(0, 12)}\n`,
    );
  return 0;
}

const STATUS_HELP = `Shows each release channel's current release (its number, the bundle of every blueprint
with its hash and source commit, a release waiting for co-signatures), then each workspace's
applied bundle as its supervisor last attested it, flagged against its channel's current
release: in-sync, behind (an older release is applied: the workspace is disconnected, or the
newest release failed verification there, see its error), deny-all (no valid bundle: the
workspace denies everything) or unknown.

Reads DATA_DIR/releases and the attestations in paddock up's store, or with --database-url a
cluster's store (every replica records its supervisors' attestations there); it changes nothing.

--json prints {"channels": [ChannelStatus], "workspaces": [WorkspacePolicyStatus]}.

Exit codes: 0 every workspace in sync, 1 some workspace drifts, 2 usage error.

Options:
${STORE_HELP}
${JSON_HELP}
`;

/** `paddock policy status`: channels' releases and each workspace's applied bundle, with drift. */
export const policyStatusCommand: Command = {
  name: 'policy status',
  summary: "show each channel's release and each workspace's applied bundle, flagging drift",
  usage: '[--data-dir DIR | --database-url URL] [--json]',
  help: STATUS_HELP,
  options: { ...JSON_OPTION, ...STORE_OPTIONS },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy status takes no positional arguments');
    const url = databaseUrl(ctx);
    const { channels, workspaces } = url
      ? await withStorePool(url, async (pool) => {
          const records = await withStore(url, (store) => store.releaseAttestations());
          return readStoreReleases(pool, (repository) => ({
            channels: repository.channels(),
            workspaces: policyStatuses(repository, records),
          }));
        })
      : await localStatus(ctx);
    if (ctx.values['json']) writeJson(ctx.stdout, { channels, workspaces });
    else renderStatus(ctx, channels, workspaces);
    return workspaces.every((workspace) => workspace.drift === 'in-sync') ? 0 : 1;
  },
};

/** The status of `paddock up`'s releases: DATA_DIR/releases and the attestations in its store. */
async function localStatus(
  ctx: CommandContext,
): Promise<{ channels: ChannelStatus[]; workspaces: WorkspacePolicyStatus[] }> {
  const dir = releasesDir(ctx);
  const repository = readReleaseRepository(dir);
  // No store yet (paddock up never ran here): nobody has attested, and status creates nothing.
  const storeFile = resolve(dir, '..', 'controlplane.db');
  const records = existsSync(storeFile)
    ? await withStore(sqliteStoreUrl(resolve(dir, '..')), (store) => store.releaseAttestations())
    : [];
  return { channels: repository.channels(), workspaces: policyStatuses(repository, records) };
}

/** Runs `work` on the control plane's store at `url`, closed after. */
async function withStore<T>(url: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function renderStatus(
  ctx: CommandContext,
  channels: ChannelStatus[],
  workspaces: WorkspacePolicyStatus[],
): void {
  const out = ctx.stdout;
  if (channels.length === 0) out.write('no release channels yet (nothing has been released)\n');
  for (const channel of channels) {
    out.write(
      `channel ${channel.channel}: release ${channel.targetsVersion} (threshold ${channel.threshold}, root ${channel.rootVersion}, timestamp expires ${channel.timestampExpires ?? '-'})\n`,
    );
    for (const target of channel.targets)
      out.write(
        `  ${target.name.padEnd(24)} ${target.bundleId.padEnd(36)} ${target.sha256.slice(0, 12)}  ${target.commit.slice(0, 12)}\n`,
      );
    if (channel.pending)
      out.write(
        `  pending release ${channel.pending.version}: ${channel.pending.signatures} of ${channel.pending.needed} signatures\n`,
      );
  }
  out.write(workspaces.length === 0 ? 'no workspace has attested a bundle\n' : 'workspaces:\n');
  for (const workspace of workspaces) {
    const { attestation } = workspace;
    const applied = attestation.bundle
      ? `${attestation.bundle.id} (release ${attestation.release})`
      : 'deny-all';
    const current = workspace.current
      ? `current ${workspace.current.bundleId} (release ${workspace.current.release})`
      : 'no current release';
    out.write(
      `  ${workspace.workspaceId.padEnd(24)} ${attestation.channel}/${attestation.blueprint}  applied ${applied}  ${current}  ${workspace.drift.toUpperCase()}\n`,
    );
    if (attestation.error)
      out.write(`    last update failed: ${attestation.error.code}: ${attestation.error.message}\n`);
  }
}

const RELEASE_HELP = `Compiles every blueprint of the desired-state Git repository at --commit (read from Git's
object store, never the working tree) into reproducible bundles, and releases them to
--channel: signed TUF targets, snapshot and timestamp under DATA_DIR/releases. The channels
and their thresholds are the commit's paddock.yaml spec.releases.channels. Releasing the same
commit again changes nothing. With fewer signers than the channel's threshold the release
waits for \`paddock policy cosign\`. A running control plane tells supervisors within seconds.

Exit codes: 0 released or pending, 1 compile or signing failed, 2 usage error.

Options:
      --repo DIR         the desired-state Git repository (default: the current directory)
      --commit REV       the commit, branch or tag to release (default: HEAD)
      --channel NAME     the channel to release to (default: the first one, canary)
${SIGN_HELP}
${DATA_DIR_HELP}
${JSON_HELP}
`;

/** `paddock policy release`: compile a commit and publish its bundles to a channel. */
export const policyReleaseCommand: Command = {
  name: 'policy release',
  summary: 'compile the desired state at a Git commit and release its bundles to a channel',
  usage: '[--repo DIR] [--commit REV] [--channel NAME] [--sign-with FILE]… [--data-dir DIR] [--json]',
  help: RELEASE_HELP,
  options: {
    ...JSON_OPTION,
    ...DATA_DIR_OPTION,
    repo: { type: 'string' },
    commit: { type: 'string' },
    channel: { type: 'string' },
    'sign-with': { type: 'string', multiple: true },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy release takes no positional arguments');
    const repoDir = resolve(ctx.cwd, (ctx.values['repo'] as string | undefined) ?? '.');
    const compiled = await compileCommit({
      repoDir,
      commit: (ctx.values['commit'] as string | undefined) ?? 'HEAD',
    });
    const channel = (ctx.values['channel'] as string | undefined) ?? compiled.channels[0]?.name ?? 'canary';
    const repository = openReleaseRepository({ dir: releasesDir(ctx), channels: compiled.channels });
    await repository.ready();
    const outcome = await repository.release({
      channel,
      bundles: compiled.bundles.map(releaseInput),
      signers: signersFrom(ctx, repository, channel),
    });
    return printOutcome(ctx, outcome);
  },
};

const PROMOTE_HELP = `Promotes --from's current release into --to: the same bundle hashes, re-signed with --to's
signers (no bundle is rebuilt). --blueprint limits it to some blueprints. When --to needs
more signatures than given (stable with a threshold of 2), the promotion waits for
\`paddock policy cosign\`.

With --database-url it works on a cluster's store: the result is verified, then written in one
transaction only if nobody wrote in between (else PDK_RELEASE_CONFLICT: run it again), and every
replica is told. --sign-with is required there.

Exit codes: 0 promoted or pending, 1 nothing to promote or signing failed, 2 usage error.

Options:
      --from NAME        the channel to promote from (default canary)
      --to NAME          the channel to promote to (default stable)
      --blueprint NAME   promote only this blueprint's bundle (repeatable)
${SIGN_HELP}
${STORE_HELP}
${RELEASE_KEYS_HELP}
${JSON_HELP}
`;

/** `paddock policy promote`: re-sign a channel's release into the next channel. */
export const policyPromoteCommand: Command = {
  name: 'policy promote',
  summary: "promote a channel's release to the next channel (same bundle hashes, re-signed)",
  usage:
    '[--from NAME] [--to NAME] [--blueprint NAME]… [--sign-with FILE]… [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
  help: PROMOTE_HELP,
  options: {
    ...JSON_OPTION,
    ...STORE_OPTIONS,
    ...RELEASE_KEYS_OPTION,
    from: { type: 'string' },
    to: { type: 'string' },
    blueprint: { type: 'string', multiple: true },
    'sign-with': { type: 'string', multiple: true },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy promote takes no positional arguments');
    const from = (ctx.values['from'] as string | undefined) ?? 'canary';
    const to = (ctx.values['to'] as string | undefined) ?? 'stable';
    const names = ctx.values['blueprint'] as string[] | undefined;
    const url = databaseUrl(ctx);
    if (url)
      return printOutcome(
        ctx,
        await onStore(ctx, url, to, (edit) =>
          editStoreReleases(edit, (repository) =>
            repository.promote({ from, to, signers: edit.signers, ...(names ? { names } : {}) }),
          ),
        ),
      );
    const repository = readReleaseRepository(releasesDir(ctx));
    const outcome = await repository.promote({
      from,
      to,
      signers: signersFrom(ctx, repository, to),
      ...(names ? { names } : {}),
    });
    return printOutcome(ctx, outcome);
  },
};

const COSIGN_HELP = `Adds signatures to --channel's release that waits for more signers (a release or
promotion made with fewer signers than the channel's threshold), and publishes it once the
threshold is met. A signature by a key the channel does not list is not counted (on a
cluster's store, --database-url, it is refused with nothing written).

Exit codes: 0 signed, 1 nothing pending or signing failed, 2 usage error.

Options:
      --channel NAME     the channel (default stable)
${SIGN_HELP}
${STORE_HELP}
${RELEASE_KEYS_HELP}
${JSON_HELP}
`;

/** `paddock policy cosign`: a second signer approves a pending release. */
export const policyCosignCommand: Command = {
  name: 'policy cosign',
  summary: 'add a signature to a release waiting for more signers, and publish it at the threshold',
  usage:
    '[--channel NAME] --sign-with FILE… [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
  help: COSIGN_HELP,
  options: {
    ...JSON_OPTION,
    ...STORE_OPTIONS,
    ...RELEASE_KEYS_OPTION,
    channel: { type: 'string' },
    'sign-with': { type: 'string', multiple: true },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy cosign takes no positional arguments');
    const files = (ctx.values['sign-with'] as string[] | undefined) ?? [];
    if (files.length === 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        "paddock policy cosign needs --sign-with FILE (the co-signer's key)",
      );
    const channel = (ctx.values['channel'] as string | undefined) ?? 'stable';
    const url = databaseUrl(ctx);
    if (url)
      return printOutcome(
        ctx,
        await onStore(ctx, url, channel, (edit) =>
          editStoreReleases(edit, (repository) => repository.cosign({ channel, signers: edit.signers })),
        ),
      );
    const repository = readReleaseRepository(releasesDir(ctx));
    const outcome = await repository.cosign({
      channel,
      signers: files.map((file) => fileSigner(resolve(ctx.cwd, file))),
    });
    return printOutcome(ctx, outcome);
  },
};

const ROTATE_HELP = `Replaces --channel's signers: the channel's next root lists the --new-signer keys (with
--threshold of them needed from then on) and is signed by a threshold of the current root's
keys (--sign-with) and by every new key, as supervisors require to move to it; anything less
is refused with nothing written. The current release is re-signed by the new keys as the next
release (the same bundles), so supervisors keep verifying what they enforce; a release waiting
for co-signatures is dropped (release it again). The channel's online key (snapshot and
timestamp) stays.

With --database-url it works on a cluster's store: the new root must chain to the one before
it and the channel must verify under it, then it is written in one transaction only if nobody
wrote in between, and every replica is told. Then put the new keys into the release-keys Secret
(CHANNEL.signer-N.pem) and restart the replicas: the leader signs its releases with them.

Exit codes: 0 rotated, 1 refused (threshold not met, untrusted key, conflict), 2 usage error.

Options:
      --channel NAME     the channel (default stable)
${SIGN_HELP}
      --new-signer FILE  an Ed25519 key (PEM, mode 0600) the new root trusts; repeat for several (required)
      --threshold N      signatures the new root needs (default: the current root's threshold)
${STORE_HELP}
${RELEASE_KEYS_HELP}
${JSON_HELP}
`;

/** `paddock policy rotate-root`: a channel's next root, with new signers, chained to the current one. */
export const policyRotateRootCommand: Command = {
  name: 'policy rotate-root',
  summary: "replace a channel's signers with a new root signed by the current and the new keys",
  usage:
    '[--channel NAME] [--sign-with FILE]… --new-signer FILE… [--threshold N] [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
  help: ROTATE_HELP,
  options: {
    ...JSON_OPTION,
    ...STORE_OPTIONS,
    ...RELEASE_KEYS_OPTION,
    channel: { type: 'string' },
    'sign-with': { type: 'string', multiple: true },
    'new-signer': { type: 'string', multiple: true },
    threshold: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy rotate-root takes no positional arguments');
    const channel = (ctx.values['channel'] as string | undefined) ?? 'stable';
    const newFiles = (ctx.values['new-signer'] as string[] | undefined) ?? [];
    if (newFiles.length === 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        'paddock policy rotate-root needs --new-signer FILE (each key the new root trusts)',
      );
    const thresholdText = ctx.values['threshold'] as string | undefined;
    const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
    if (threshold !== undefined && !(Number.isInteger(threshold) && threshold >= 1))
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `--threshold must be a whole number of at least 1, not ${thresholdText}`,
      );
    const url = databaseUrl(ctx);
    let rotated: { rootVersion: number; targetsVersion: number };
    if (url) {
      const newSigners = newFiles.map((file) => storeKeyFile(ctx, file));
      rotated = await onStore(ctx, url, channel, async (edit) => {
        const rootThreshold =
          threshold ??
          (await readStoreReleases(edit.pool, (repository) => currentThreshold(repository, channel)));
        const rootVersion = await rotateStoreRoot(edit, { newSigners, threshold: rootThreshold });
        const status = await readStoreReleases(edit.pool, (repository) => repository.status(channel));
        return { rootVersion, targetsVersion: status.targetsVersion };
      });
    } else {
      const repository = readReleaseRepository(releasesDir(ctx));
      const rootVersion = await repository.rotateRoot({
        channel,
        signers: signersFrom(ctx, repository, channel),
        newSigners: newFiles.map((file) => fileSigner(resolve(ctx.cwd, file))),
        threshold: threshold ?? currentThreshold(repository, channel),
      });
      rotated = { rootVersion, targetsVersion: repository.status(channel).targetsVersion };
    }
    if (ctx.values['json']) writeJson(ctx.stdout, { channel, ...rotated });
    else
      ctx.stdout.write(
        `${channel}: root ${rotated.rootVersion} published${rotated.targetsVersion > 0 ? `; release ${rotated.targetsVersion} re-signs the current bundles with the new keys` : ''}\n`,
      );
    return 0;
  },
};

/** The root-role threshold of a channel's current root. */
function currentThreshold(repository: ReleaseRepository, channel: string): number {
  return (
    readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(channel)).signed.roles[MetadataKind.Root]
      ?.threshold ?? 1
  );
}
