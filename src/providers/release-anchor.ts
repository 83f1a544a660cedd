import { readFileSync } from 'node:fs';
import { PaddockError } from '../core/errors.ts';
import type { WorkspaceSpec } from './provider.ts';

// What a VM provider carries into the guest so its supervisor follows signed releases
// (docs/releases.md): the channel name and the bytes of the channel's root.json, the trust
// anchor. The local provider hands the supervisor the file's path; a VM cannot read the control
// plane's disk, so the VM providers copy the bytes into the guest's first-boot data. Root
// metadata is public (keys and thresholds, no secret), so it may sit in Git and custom data.

/** The supervisor refuses a root larger than this (tuf-client.ts `rootBytes`); so does a provider. */
export const RELEASE_ROOT_MAX_BYTES = 512 * 1024;

/** Channel names are DNS labels (paddock.yaml); they also name the anchor file in the guest. */
const CHANNEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface ReleaseAnchor {
  readonly channel: string;
  /** root.json exactly as the release repository wrote it. */
  readonly root: Uint8Array;
}

/**
 * Checks an anchor before it is baked into a VM: a guest given a broken one would enforce
 * deny-all forever, so a provider refuses at render time instead (fail closed, loudly).
 */
export function checkReleaseAnchor(anchor: ReleaseAnchor, where: string): ReleaseAnchor {
  const fail = (why: string): never => {
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `${where}: release root of channel ${anchor.channel}: ${why}`,
    );
  };
  if (!CHANNEL.test(anchor.channel)) fail('the channel name is not a DNS label');
  if (anchor.root.byteLength > RELEASE_ROOT_MAX_BYTES)
    fail(`${anchor.root.byteLength} bytes, over the supervisor's ${RELEASE_ROOT_MAX_BYTES}-byte limit`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(anchor.root).toString('utf8'));
  } catch {
    fail('not JSON');
  }
  const signed = (parsed as { signed?: { _type?: unknown } } | null)?.signed;
  if (signed?._type !== 'root') fail('not TUF root metadata (signed._type is not "root")');
  return anchor;
}

/** The anchor of a workspace that follows releases (WorkspaceSpec.releases), read from its root file. */
export function releaseAnchorOf(spec: WorkspaceSpec): ReleaseAnchor | undefined {
  if (!spec.releases) return undefined;
  return readReleaseAnchor(spec.releases.channel, spec.releases.rootFile, `workspace ${spec.id}`);
}

/** The anchor of `channel` from its root file, checked; PDK_WORKSPACE_PROVIDER naming `where` when it cannot be read. */
export function readReleaseAnchor(channel: string, rootFile: string, where: string): ReleaseAnchor {
  let root: Buffer;
  try {
    root = readFileSync(rootFile);
  } catch (error) {
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `${where}: cannot read the root of release channel ${channel}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return checkReleaseAnchor({ channel, root }, where);
}

/** The anchor's file name in a guest: `CHANNEL.root.json`, as in the release repository's anchors/. */
export function anchorFileName(anchor: ReleaseAnchor): string {
  return `${anchor.channel}.root.json`;
}
