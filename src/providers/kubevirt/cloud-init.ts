import { stringify } from 'yaml';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { anchorFileName, type ReleaseAnchor } from '../release-anchor.ts';
import { IDENTITY_DISK_SERIAL } from './names.ts';
import type { KubeVirtSettings } from './settings.ts';

// The cloud-init user data of a workspace VM: it installs the supervisor as a systemd unit
// (the golden image carries the pinned Paddock release and Node.js), writes the supervisor's
// config and the desired-state files it reads, and starts it. The identity is NOT in here:
// user data lands in Git (rendered-manifests pattern); the identity comes from its own Secret,
// attached as a read-only disk that revoking deletes.

/** Paths inside the guest. */
export const GUEST = {
  supervisorConfig: '/etc/paddock/supervisor.json',
  desiredState: '/etc/paddock/desired-state',
  /** Where the identity disk (the Secret) is mounted, read-only. */
  identityDisk: '/run/paddock/identity-disk',
  /** The supervisor's working copy: rotation writes FILE.next beside it, so it must be writable. */
  identityFile: '/var/lib/paddock/identity/identity.json',
  identitySync: '/usr/local/libexec/paddock-identity-sync',
  stateDir: '/run/paddock',
  workdir: '/var/lib/paddock/workspace',
  homeDir: '/var/lib/paddock/home',
  auditLog: '/var/lib/paddock/audit/supervisor.jsonl',
  /** The release channel's root.json the VM was provisioned with (its trust anchor). */
  releasesAnchorDir: '/etc/paddock/releases',
  /** The supervisor's trusted metadata and last good bundle: outside every sandbox, kept across reboots. */
  releasesState: '/var/lib/paddock/releases',
  unit: '/etc/systemd/system/paddock-supervisor.service',
} as const;

/** The key of the identity Secret (and so the file name on the identity disk). */
export const IDENTITY_KEY = 'identity.json';

export interface CloudInitInput {
  readonly workspaceId: string;
  readonly profile: string;
  readonly blueprint: string;
  readonly channelUrl: string;
  /** Desired-state files by repository-relative path (paddock.yaml, blueprints/x.yaml, ...). */
  readonly desiredStateFiles: ReadonlyMap<string, string>;
  readonly settings: KubeVirtSettings;
  /** The signed release channel the supervisor follows, and its root (absent: configDir's blueprint). */
  readonly releases?: ReleaseAnchor;
}

/** Where the anchor lands in the guest. */
export function guestAnchorFile(anchor: ReleaseAnchor): string {
  return `${GUEST.releasesAnchorDir}/${anchorFileName(anchor)}`;
}

/** The supervisor's config in the guest: systemd is its parent, so `providerPid` is 1. */
export function guestSupervisorConfig(input: CloudInitInput): WorkspaceSupervisorConfig {
  return {
    workspaceId: input.workspaceId,
    channelUrl: input.channelUrl,
    identityFile: GUEST.identityFile,
    configDir: GUEST.desiredState,
    blueprint: input.blueprint,
    profile: input.profile,
    workdir: GUEST.workdir,
    homeDir: GUEST.homeDir,
    stateDir: GUEST.stateDir,
    auditLog: GUEST.auditLog,
    providerPid: 1,
    ...(input.releases
      ? {
          releases: {
            channel: input.releases.channel,
            rootFile: guestAnchorFile(input.releases),
            stateDir: GUEST.releasesState,
          },
        }
      : {}),
  };
}

function supervisorUnit(settings: KubeVirtSettings): string {
  const { installDir, node } = settings.supervisor;
  return [
    '[Unit]',
    'Description=Paddock workspace supervisor',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStartPre=${GUEST.identitySync}`,
    `ExecStart=${node} ${installDir}/src/supervisor/workspace/main.ts --config ${GUEST.supervisorConfig}`,
    'Restart=always',
    'RestartSec=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * Copies the identity from its disk (the Secret revoking deletes; a VM without it does not boot)
 * to the supervisor's writable copy, but only when the disk holds a new identity (a start issues
 * a fresh one): a reboot must not undo a rotation the supervisor did since.
 */
function identitySyncScript(): string {
  const dir = GUEST.identityFile.slice(0, GUEST.identityFile.lastIndexOf('/'));
  return [
    '#!/bin/sh',
    'set -eu',
    `disk=${GUEST.identityDisk}`,
    `dir=${dir}`,
    'mkdir -p "$disk" "$dir"',
    'chmod 0700 "$dir"',
    `mountpoint -q "$disk" || mount -o ro /dev/disk/by-id/virtio-${IDENTITY_DISK_SERIAL} "$disk"`,
    // No identity on the disk: fail, so the supervisor does not start on a stale copy.
    '[ -s "$disk/identity.json" ] || { echo "paddock: no identity on its disk" >&2; exit 1; }',
    'new=$(sha256sum "$disk/identity.json" | cut -d" " -f1)',
    'old=$(cat "$dir/source.sha256" 2>/dev/null || true)',
    'if [ "$new" != "$old" ]; then',
    `  install -m 0600 "$disk/identity.json" "${GUEST.identityFile}"`,
    '  echo "$new" > "$dir/source.sha256"',
    'fi',
    '',
  ].join('\n');
}

/** `#cloud-config` user data; deterministic (files in path order). */
export function renderUserData(input: CloudInitInput): string {
  const files = [...input.desiredStateFiles.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, content]) => ({
      path: `${GUEST.desiredState}/${path}`,
      owner: 'root:root',
      permissions: '0640',
      content,
    }));
  const document = {
    write_files: [
      {
        path: GUEST.supervisorConfig,
        owner: 'root:root',
        permissions: '0600',
        content: `${JSON.stringify(guestSupervisorConfig(input), null, 2)}\n`,
      },
      // Base64: the guest gets exactly the file the release repository wrote, whatever its bytes.
      ...(input.releases
        ? [
            {
              path: guestAnchorFile(input.releases),
              owner: 'root:root',
              permissions: '0644',
              encoding: 'b64',
              content: Buffer.from(input.releases.root).toString('base64'),
            },
          ]
        : []),
      ...files,
      { path: GUEST.identitySync, owner: 'root:root', permissions: '0700', content: identitySyncScript() },
      { path: GUEST.unit, owner: 'root:root', permissions: '0644', content: supervisorUnit(input.settings) },
    ],
    runcmd: [
      ['mkdir', '-p', GUEST.workdir, GUEST.homeDir, '/var/lib/paddock/audit'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'paddock-supervisor.service'],
    ],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
