import { join } from 'node:path';
import { MetadataKind, type Root } from '@tufjs/models';
import { PaddockError } from '../../core/errors.ts';
import { type ChannelSettings, fileSigner, type Signer } from '../releases/index.ts';
import { readMetadata } from '../releases/metadata.ts';

// The policy release signing keys of `paddock serve`: files the chart mounts from one Secret,
// so every replica signs with the same keys and hands workspaces the same root. Never created
// here (a key made by one replica would be that replica's alone): a missing or unusable file
// stops startup with PDK_SERVE_RELEASE_KEYS naming what to create.
//
//   DIR/CHANNEL.online.pem       signs the channel's snapshot and timestamp
//   DIR/CHANNEL.signer-N.pem     N = 1..threshold: sign its root and targets

/** Where the chart mounts the Secret. */
export const DEFAULT_RELEASE_KEYS_DIR = '/etc/paddock/release-keys';

export interface ReleaseKeys {
  readonly dir: string;
  online(channel: string): Signer;
  signers(channel: string): readonly Signer[];
}

/** The key files of every channel; PDK_SERVE_RELEASE_KEYS listing every file missing or refused. */
export function loadReleaseKeys(dir: string, channels: readonly ChannelSettings[]): ReleaseKeys {
  const problems: string[] = [];
  const load = (file: string): Signer | undefined => {
    try {
      return fileSigner(join(dir, file), { groupReadable: true });
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const online = new Map<string, Signer>();
  const signers = new Map<string, Signer[]>();
  for (const channel of channels) {
    const key = load(`${channel.name}.online.pem`);
    if (key) online.set(channel.name, key);
    const list: Signer[] = [];
    for (let n = 1; n <= channel.threshold; n++) {
      const signer = load(`${channel.name}.signer-${n}.pem`);
      if (signer) list.push(signer);
    }
    signers.set(channel.name, list);
  }
  if (problems.length > 0)
    throw new PaddockError(
      'PDK_SERVE_RELEASE_KEYS',
      `the release signing keys in ${dir} are not usable (${problems.join('; ')}): create the Secret the chart mounts there (releases.keysSecretName) with an Ed25519 PEM key per file (docs/releases.md)`,
    );
  return {
    dir,
    online: (channel) => online.get(channel) as Signer,
    signers: (channel) => signers.get(channel) ?? [],
  };
}

/**
 * PDK_SERVE_RELEASE_KEYS unless the channel's current root trusts the mounted keys: a Secret
 * replaced after the store's root was made would sign releases every supervisor refuses.
 */
export function requireKeysMatchRoot(keys: ReleaseKeys, channel: string, rootBytes: Uint8Array): void {
  const root = readMetadata<Root>(MetadataKind.Root, rootBytes);
  const timestamp = new Set(root.signed.roles[MetadataKind.Timestamp]?.keyIDs ?? []);
  const targets = new Set(root.signed.roles[MetadataKind.Targets]?.keyIDs ?? []);
  const stray = [
    ...(timestamp.has(keys.online(channel).key.keyID) ? [] : [`${channel}.online.pem`]),
    ...keys
      .signers(channel)
      .map((signer, index) =>
        targets.has(signer.key.keyID) ? undefined : `${channel}.signer-${index + 1}.pem`,
      )
      .filter((file): file is string => file !== undefined),
  ];
  if (stray.length > 0)
    throw new PaddockError(
      'PDK_SERVE_RELEASE_KEYS',
      `channel ${channel}'s root (version ${root.signed.version}, in the store) does not trust ${stray.join(', ')} in ${keys.dir}: mount the keys the cluster's releases were first made with`,
    );
}
