import { gzipSync } from 'node:zlib';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { anchorFileName, type ReleaseAnchor } from '../release-anchor.ts';
import {
  WINDOWS_HOST_EGRESS,
  WINDOWS_HOST_SSH,
  WINDOWS_IDENTITY_SYNC,
  WINDOWS_PADDOCK_ROOT,
  WINDOWS_SUPERVISOR_CONFIG,
  windowsAgentBootstrap,
  windowsDesiredStatePath,
} from '../windows-guest.ts';

// What a workspace VM is handed at first boot (custom data): the supervisor's config, the
// desired-state files its sandbox follows, and how to fetch its channel identity. The identity
// itself is never in custom data (custom data is readable by anyone who can read the VM model):
// it is a Key Vault secret the VM reads over the private endpoint with its managed identity,
// at every supervisor start, into memory-backed storage.
//
// Paddock itself (Node.js, the supervisor, the systemd unit or the Windows scheduled task) is in
// the golden image (deploy/azure/golden-image.pkr.hcl); custom data only configures and starts
// it. On Windows it also makes the agent's account with no network but the supervisor's egress
// gateway (windows-guest.ts, shared with KubeVirt).

/** Azure refuses custom data longer than this many base64 characters. */
export const CUSTOM_DATA_MAX_BASE64 = 65_536;

export interface DesiredStateFile {
  /** Path relative to the repository root, `/`-separated. */
  readonly path: string;
  readonly content: string;
}

export interface BootstrapInput {
  readonly workspaceId: string;
  readonly channelUrl: string;
  readonly blueprint: string;
  readonly profile: string;
  readonly files: readonly DesiredStateFile[];
  /** `https://VAULT.vault.azure.net/secrets/NAME`: the channel identity. */
  readonly identitySecretUrl: string;
  /** Resource id of the VM's user-assigned identity (IMDS `msi_res_id`). */
  readonly managedIdentityId: string;
  /** The signed release channel the supervisor follows, with the channel's root (absent: the blueprint in files). */
  readonly releases?: ReleaseAnchor;
}

const LINUX = {
  root: '/etc/paddock',
  identityFile: '/run/paddock/identity.json',
  data: '/var/lib/paddock',
} as const;

const WINDOWS = {
  root: WINDOWS_PADDOCK_ROOT,
  /** The data disk (LUN 0), formatted at first boot. */
  data: 'P:',
} as const;

/**
 * Where the release anchor lands in the guest. The supervisor's release state (trusted metadata,
 * last good bundle) is on the data disk, so a rebuild neither rolls it back nor loses it.
 */
export function guestAnchorFile(anchor: ReleaseAnchor, os: 'linux' | 'windows'): string {
  return os === 'linux'
    ? `${LINUX.root}/releases/${anchorFileName(anchor)}`
    : `${WINDOWS.root}\\releases\\${anchorFileName(anchor)}`;
}

function releasesConfig(input: BootstrapInput, os: 'linux' | 'windows') {
  if (!input.releases) return {};
  return {
    releases: {
      channel: input.releases.channel,
      rootFile: guestAnchorFile(input.releases, os),
      stateDir: os === 'linux' ? `${LINUX.data}/releases` : `${WINDOWS.data}\\releases`,
    },
  };
}

/** The workspace data disk as Linux sees it (Azure's udev rules name it by LUN). */
const LINUX_DATA_DISK = '/dev/disk/azure/scsi1/lun0';

/** The supervisor config as the VM's supervisor reads it (`--config FILE`). */
export function supervisorConfig(input: BootstrapInput, os: 'linux' | 'windows'): WorkspaceSupervisorConfig {
  if (os === 'linux')
    return {
      workspaceId: input.workspaceId,
      channelUrl: input.channelUrl,
      identityFile: LINUX.identityFile,
      configDir: `${LINUX.root}/desired-state`,
      blueprint: input.blueprint,
      profile: input.profile,
      workdir: `${LINUX.data}/workspace`,
      homeDir: `${LINUX.data}/home`,
      auditLog: `${LINUX.data}/audit/supervisor.jsonl`,
      // systemd starts the supervisor: its parent is pid 1 for as long as it should run.
      providerPid: 1,
      ...releasesConfig(input, os),
    };
  const root = WINDOWS.root;
  return {
    workspaceId: input.workspaceId,
    channelUrl: input.channelUrl,
    identityFile: `${root}\\run\\identity.json`,
    configDir: `${root}\\desired-state`,
    blueprint: input.blueprint,
    profile: input.profile,
    workdir: `${WINDOWS.data}\\workspace`,
    homeDir: `${WINDOWS.data}\\home`,
    auditLog: `${root}\\audit\\supervisor.jsonl`,
    // The scheduled task's wrapper (windows-service.ts) is the parent and passes its own pid.
    providerPid: 0,
    // Terminals through the host's OpenSSH server: the Paddock sandbox is Linux-only.
    hostSsh: WINDOWS_HOST_SSH,
    // The agent's only way out: the supervisor's egress gateway on loopback (windows-guest.ts).
    hostEgress: WINDOWS_HOST_EGRESS,
    ...releasesConfig(input, os),
  };
}

const gzB64 = (text: string | Uint8Array): string => gzipSync(text, { level: 9 }).toString('base64');

/** The IMDS token request and Key Vault read both boot scripts perform. */
function imdsTokenUrl(managedIdentityId: string): string {
  return `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&msi_res_id=${encodeURIComponent(managedIdentityId)}`;
}

/** cloud-init user data for a Linux workspace (plain text; the template carries it base64). */
export function linuxCloudInit(input: BootstrapInput): string {
  const config = JSON.stringify(supervisorConfig(input, 'linux'), null, 2);
  const fetchIdentity = [
    '#!/bin/sh',
    '# Reads the channel identity from Key Vault (private endpoint) with the VM identity.',
    'set -eu',
    'umask 077',
    'mkdir -p /run/paddock',
    `token=$(curl -fsS -H Metadata:true '${imdsTokenUrl(input.managedIdentityId)}' | node -e 'process.stdin.on("data",(d)=>process.stdout.write(JSON.parse(d).access_token))')`,
    `curl -fsS -H "Authorization: Bearer $token" '${input.identitySecretUrl}?api-version=7.4' | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).value))' > ${LINUX.identityFile}.tmp`,
    `mv ${LINUX.identityFile}.tmp ${LINUX.identityFile}`,
    '',
  ].join('\n');
  const files = [
    { path: `${LINUX.root}/supervisor.json`, content: `${config}\n`, permissions: '0600' },
    { path: '/usr/local/lib/paddock/fetch-identity.sh', content: fetchIdentity, permissions: '0700' },
    ...(input.releases
      ? [
          {
            path: guestAnchorFile(input.releases, 'linux'),
            content: input.releases.root,
            permissions: '0644',
          },
        ]
      : []),
    ...[...input.files]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((file) => ({
        path: `${LINUX.root}/desired-state/${file.path}`,
        content: file.content,
        permissions: '0644',
      })),
  ];
  const lines = [
    '#cloud-config',
    // The data disk keeps /var/lib/paddock (workspace, home, audit) across rebuilds; never reformatted.
    'disk_setup:',
    `  ${LINUX_DATA_DISK}: {table_type: gpt, layout: true, overwrite: false}`,
    'fs_setup:',
    `  - {device: ${LINUX_DATA_DISK}, partition: 1, filesystem: ext4, label: paddock-data, overwrite: false}`,
    'mounts:',
    `  - [LABEL=paddock-data, ${LINUX.data}, ext4, "defaults,nofail", "0", "2"]`,
    'write_files:',
  ];
  for (const file of files) {
    lines.push(
      `  - path: ${file.path}`,
      '    owner: root:root',
      `    permissions: '${file.permissions}'`,
      '    encoding: gz+b64',
      `    content: ${gzB64(file.content)}`,
    );
  }
  lines.push(
    'runcmd:',
    `  - [mkdir, -p, ${LINUX.data}/workspace, ${LINUX.data}/home, ${LINUX.data}/audit]`,
    '  - [systemctl, enable, --now, paddock-supervisor.service]',
    '',
  );
  return lines.join('\n');
}

/** PowerShell bootstrap for a Windows workspace (custom data, run by the CustomScript extension). */
export function windowsBootstrap(input: BootstrapInput): string {
  const root = WINDOWS.root;
  const guestConfig = supervisorConfig(input, 'windows');
  const config = JSON.stringify(guestConfig, null, 2);
  const lines = [
    '# Paddock workspace bootstrap (custom data; run once by the CustomScript extension).',
    "$ErrorActionPreference = 'Stop'",
    `$root = '${root}'`,
    '# The data disk (LUN 0) keeps workspace and home across rebuilds: formatted only while still RAW.',
    "Get-Disk | Where-Object { $_.PartitionStyle -eq 'RAW' -and $_.Location -match 'LUN 0' } | Initialize-Disk -PartitionStyle GPT -PassThru | New-Partition -DriveLetter P -UseMaximumSize | Format-Volume -FileSystem NTFS -NewFileSystemLabel paddock-data -Confirm:$false | Out-Null",
    "foreach ($dir in 'desired-state','run','audit','logs') { New-Item -ItemType Directory -Force -Path (Join-Path $root $dir) | Out-Null }",
    '# Only SYSTEM and Administrators may read the Paddock directory (identity, config).',
    'icacls $root /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null',
    "if ($LASTEXITCODE -ne 0) { throw 'paddock: icacls failed on the Paddock directory' }",
    'function Write-Gz([string]$path, [string]$b64) {',
    '  $bytes = [Convert]::FromBase64String($b64)',
    '  $in = New-Object IO.MemoryStream(,$bytes)',
    '  $gz = New-Object IO.Compression.GZipStream($in, [IO.Compression.CompressionMode]::Decompress)',
    '  $out = New-Object IO.MemoryStream',
    '  $gz.CopyTo($out)',
    '  New-Item -ItemType Directory -Force -Path (Split-Path $path) | Out-Null',
    '  [IO.File]::WriteAllBytes($path, $out.ToArray())',
    '}',
    `Write-Gz '${WINDOWS_SUPERVISOR_CONFIG}' '${gzB64(`${config}\n`)}'`,
  ];
  if (input.releases)
    lines.push(`Write-Gz '${guestAnchorFile(input.releases, 'windows')}' '${gzB64(input.releases.root)}'`);
  for (const file of [...input.files].sort((a, b) => a.path.localeCompare(b.path))) {
    const windowsPath = windowsDesiredStatePath(file.path, 'PDK_AZURE_VM_INVALID');
    lines.push(`Write-Gz (Join-Path $root 'desired-state\\${windowsPath}') '${gzB64(file.content)}'`);
  }
  lines.push(
    '# Fetches the channel identity from Key Vault (private endpoint) with the VM identity, before each start.',
    `$fetch = @'`,
    "$ErrorActionPreference = 'Stop'",
    `$token = (Invoke-RestMethod -Headers @{Metadata='true'} -Uri '${imdsTokenUrl(input.managedIdentityId)}').access_token`,
    `$secret = Invoke-RestMethod -Headers @{Authorization="Bearer $token"} -Uri '${input.identitySecretUrl}?api-version=7.4'`,
    `[IO.File]::WriteAllText('${root}\\run\\identity.json.tmp', $secret.value)`,
    `Move-Item -Force '${root}\\run\\identity.json.tmp' '${root}\\run\\identity.json'`,
    `'@`,
    `Set-Content -Path '${WINDOWS_IDENTITY_SYNC}' -Value $fetch`,
    ...windowsAgentBootstrap(guestConfig),
    '',
  );
  return lines.join('\r\n');
}

/** Custom data as the VM model carries it: base64 of the boot document. */
export function customData(document: string): string {
  return Buffer.from(document, 'utf8').toString('base64');
}
