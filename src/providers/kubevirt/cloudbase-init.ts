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
import type { CloudInitInput } from './cloud-init.ts';
import { IDENTITY_KEY } from './cloud-init.ts';

// The user data of a Windows workspace VM, run once by cloudbase-init (which reads it from the
// ConfigDrive KubeVirt builds from the cloud-init Secret). `#ps1_sysnative` makes cloudbase-init
// run it as 64-bit PowerShell under LocalSystem. It does for Windows what cloud-init.ts does for
// Linux: writes the supervisor's config, the desired state and the release anchor, writes the
// identity sync (the same contract as Linux: copy the identity from its disk only when the disk
// holds a new one), then, as Azure's does (windows-guest.ts), makes the agent's account with no
// network but the supervisor's egress gateway, starts the host SSH server and the PaddockSupervisor task the golden image registers
// (deploy/azure/scripts/install-paddock.ps1, shared with Azure). No credential is in here.

/** Paths inside a Windows guest. */
export const WINDOWS_GUEST = {
  root: WINDOWS_PADDOCK_ROOT,
  supervisorConfig: WINDOWS_SUPERVISOR_CONFIG,
  desiredState: 'C:\\ProgramData\\Paddock\\desired-state',
  identityFile: 'C:\\ProgramData\\Paddock\\identity\\identity.json',
  /** Run by the service wrapper before each supervisor start (the name Azure's bootstrap uses too). */
  identitySync: WINDOWS_IDENTITY_SYNC,
  releasesAnchorDir: 'C:\\ProgramData\\Paddock\\releases',
  releasesState: 'C:\\ProgramData\\Paddock\\state\\releases',
  auditLog: 'C:\\ProgramData\\Paddock\\audit\\supervisor.jsonl',
  workdir: 'C:\\Paddock\\workspace',
  homeDir: 'C:\\Paddock\\home',
} as const;

/** cloudbase-init runs user data starting with this line as 64-bit PowerShell. */
export const PS1_SYSNATIVE = '#ps1_sysnative';

export function windowsGuestAnchorFile(anchor: ReleaseAnchor): string {
  return `${WINDOWS_GUEST.releasesAnchorDir}\\${anchorFileName(anchor)}`;
}

/**
 * The supervisor's config in a Windows guest: pid 0 as on Azure (the scheduled task's wrapper
 * passes its own pid), terminals through the host's OpenSSH server, the agent's way out through
 * the supervisor's egress gateway on loopback.
 */
export function windowsGuestSupervisorConfig(input: CloudInitInput): WorkspaceSupervisorConfig {
  return {
    workspaceId: input.workspaceId,
    channelUrl: input.channelUrl,
    identityFile: WINDOWS_GUEST.identityFile,
    configDir: WINDOWS_GUEST.desiredState,
    blueprint: input.blueprint,
    profile: input.profile,
    workdir: WINDOWS_GUEST.workdir,
    homeDir: WINDOWS_GUEST.homeDir,
    auditLog: WINDOWS_GUEST.auditLog,
    providerPid: 0,
    hostSsh: WINDOWS_HOST_SSH,
    hostEgress: WINDOWS_HOST_EGRESS,
    ...(input.releases
      ? {
          releases: {
            channel: input.releases.channel,
            rootFile: windowsGuestAnchorFile(input.releases),
            stateDir: WINDOWS_GUEST.releasesState,
          },
        }
      : {}),
  };
}

const gzB64 = (bytes: string | Uint8Array): string => gzipSync(bytes, { level: 9 }).toString('base64');

/**
 * The identity sync for Windows: the identity Secret is a CD-ROM (an ISO KubeVirt builds);
 * the volume holding identity.json is it. Fails when there is none, so the service does not
 * start on a stale copy.
 */
function identitySyncScript(): string {
  const dir = WINDOWS_GUEST.identityFile.slice(0, WINDOWS_GUEST.identityFile.lastIndexOf('\\'));
  return [
    "$ErrorActionPreference = 'Stop'",
    `$dir = '${dir}'`,
    `$disk = Get-Volume | Where-Object { $_.DriveType -eq 'CD-ROM' -and $_.DriveLetter -and (Test-Path "$($_.DriveLetter):\\${IDENTITY_KEY}") } | Select-Object -First 1`,
    `if (-not $disk) { throw 'paddock: no identity on its disk' }`,
    `$source = "$($disk.DriveLetter):\\${IDENTITY_KEY}"`,
    `if ((Get-Item $source).Length -eq 0) { throw 'paddock: no identity on its disk' }`,
    'New-Item -ItemType Directory -Force -Path $dir | Out-Null',
    '$new = (Get-FileHash -Algorithm SHA256 $source).Hash',
    '$old = if (Test-Path "$dir\\source.sha256") { (Get-Content "$dir\\source.sha256" -Raw).Trim() } else { \'\' }',
    'if ($new -ne $old) {',
    `  Copy-Item $source '${WINDOWS_GUEST.identityFile}' -Force`,
    '  Set-Content -Path "$dir\\source.sha256" -Value $new -NoNewline',
    '}',
    '',
  ].join('\r\n');
}

/** `#ps1_sysnative` user data; deterministic (files in path order). CRLF, as Windows scripts are. */
export function renderWindowsUserData(input: CloudInitInput): string {
  const root = WINDOWS_GUEST.root;
  const guestConfig = windowsGuestSupervisorConfig(input);
  const config = `${JSON.stringify(guestConfig, null, 2)}\n`;
  const lines = [
    PS1_SYSNATIVE,
    '# Paddock workspace bootstrap (KubeVirt; run once by cloudbase-init).',
    "$ErrorActionPreference = 'Stop'",
    `$root = '${root}'`,
    "foreach ($dir in 'desired-state','identity','releases','state','audit','logs') { New-Item -ItemType Directory -Force -Path (Join-Path $root $dir) | Out-Null }",
    '# Only SYSTEM and Administrators may read the Paddock directory (identity, config, release state).',
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
    `Write-Gz '${WINDOWS_GUEST.supervisorConfig}' '${gzB64(config)}'`,
  ];
  if (input.releases)
    lines.push(`Write-Gz '${windowsGuestAnchorFile(input.releases)}' '${gzB64(input.releases.root)}'`);
  for (const [path, content] of [...input.desiredStateFiles.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const windowsPath = windowsDesiredStatePath(path, 'PDK_KUBEVIRT_RESOURCE_INVALID');
    lines.push(`Write-Gz '${WINDOWS_GUEST.desiredState}\\${windowsPath}' '${gzB64(content)}'`);
  }
  lines.push(
    `Write-Gz '${WINDOWS_GUEST.identitySync}' '${gzB64(identitySyncScript())}'`,
    ...windowsAgentBootstrap(guestConfig),
    '',
  );
  return lines.join('\r\n');
}
