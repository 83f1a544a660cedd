import type { HostEgressConfig, HostSshConfig } from '../core/channel/index.ts';
import { type ErrorCode, PaddockError } from '../core/errors.ts';

// What both VM providers' Windows first-boot scripts share (KubeVirt's cloudbase-init user data,
// Azure's custom data): the paths the golden image (deploy/azure/scripts/install-paddock.ps1)
// installs to, the host OpenSSH server every terminal logs in to, the egress gateway the agent is
// pointed at, and the PowerShell that makes the agent's account and starts the supervisor. The providers never import each other, so it
// lives here. docs/windows.md.

/** Paddock's private directory in the guest (SYSTEM and Administrators only). */
export const WINDOWS_PADDOCK_ROOT = 'C:\\ProgramData\\Paddock';
/** The supervisor's config; the golden image's scheduled task passes it (`--config`). */
export const WINDOWS_SUPERVISOR_CONFIG = `${WINDOWS_PADDOCK_ROOT}\\supervisor.json`;
/** Run by the service wrapper before each supervisor start (`--identity-sync`). */
export const WINDOWS_IDENTITY_SYNC = `${WINDOWS_PADDOCK_ROOT}\\fetch-identity.ps1`;
/** The scheduled task the golden image registers (disabled) and the first-boot script starts. */
export const WINDOWS_SUPERVISOR_TASK = 'PaddockSupervisor';
/** The one unprivileged local account every terminal runs as. */
export const WINDOWS_AGENT_ACCOUNT = 'paddock-agent';
/** The Windows Firewall rule that blocks all of the agent's outbound traffic. */
export const WINDOWS_AGENT_FIREWALL_RULE = 'PaddockAgentNoNetwork';

/** The host's OpenSSH server as the golden image configures it (its sshd_config names the same paths). */
export const WINDOWS_HOST_SSH: HostSshConfig = {
  port: 22,
  account: WINDOWS_AGENT_ACCOUNT,
  hostKeyFile: 'C:\\ProgramData\\ssh\\ssh_host_ed25519_key.pub',
  sshClient: 'C:\\Windows\\System32\\OpenSSH\\ssh.exe',
  authorizedKeysFile: `${WINDOWS_PADDOCK_ROOT}\\ssh\\supervisor_authorized_keys`,
};

/**
 * The supervisor's egress gateway on 127.0.0.1, the agent's only way out (the firewall rule blocks
 * the account's every other connection; loopback is exempt). The CA file is in a directory the
 * agent may read but not write (SYSTEM and Administrators full control, Users read & execute): the
 * supervisor writes the bundle there (public roots and the workspace CA).
 */
export const WINDOWS_HOST_EGRESS: HostEgressConfig = {
  proxyPort: 3128,
  socksPort: 1080,
  caCertFile: 'C:\\ProgramData\\PaddockAgent\\workspace-ca.pem',
};

/**
 * The machine environment that points every process of the agent's logons at the gateway, as
 * (name, value) pairs in the order the first-boot script sets them. One spelling per name: Windows
 * environment names are case-insensitive. Not NODE_USE_ENV_PROXY: machine-wide it would send the
 * supervisor's own connections (its channel) through the gateway.
 */
export function windowsAgentEnvironment(egress: HostEgressConfig): ReadonlyArray<readonly [string, string]> {
  for (const port of [egress.proxyPort, egress.socksPort])
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new PaddockError('PDK_WORKSPACE_PROVIDER', `hostEgress port ${port} is not a TCP port`);
  quoted(egress.caCertFile);
  const proxy = `http://127.0.0.1:${egress.proxyPort}`;
  return [
    ['HTTP_PROXY', proxy],
    ['HTTPS_PROXY', proxy],
    ['ALL_PROXY', `socks5h://127.0.0.1:${egress.socksPort}`],
    ['NO_PROXY', 'localhost,127.0.0.1'],
    ['SSL_CERT_FILE', egress.caCertFile],
    ['NODE_EXTRA_CA_CERTS', egress.caCertFile],
    ['REQUESTS_CA_BUNDLE', egress.caCertFile],
    ['GIT_SSL_CAINFO', egress.caCertFile],
  ];
}

const SYSTEM_SID = 'S-1-5-18';
const ADMINISTRATORS_SID = 'S-1-5-32-544';
const USERS_SID = 'S-1-5-32-545';

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('\\'));

/** Desired-state paths go into single-quoted PowerShell strings: nothing that could end one. */
const SAFE_DESIRED_STATE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * A desired-state file's path (`blueprints/x.yaml`) as a Windows first-boot script writes it
 * (`blueprints\x.yaml`). Both providers' scripts put it in a single-quoted PowerShell string
 * run as LocalSystem, so anything that could end the string, or climb out of the directory, is
 * refused with `code` (each provider's own).
 */
export function windowsDesiredStatePath(path: string, code: ErrorCode): string {
  if (!SAFE_DESIRED_STATE_PATH.test(path) || path.split('/').includes('..'))
    throw new PaddockError(
      code,
      `desired-state file ${JSON.stringify(path)}: a Windows workspace takes only paths of letters, digits, ".", "_", "-" and "/"; rename the file in the desired-state repository`,
    );
  return path.replaceAll('/', '\\');
}

/** Every path here goes into a single-quoted PowerShell string. */
function quoted(path: string): string {
  if (!/^[A-Za-z]:\\[A-Za-z0-9 ._\\-]*$/.test(path))
    throw new PaddockError('PDK_WORKSPACE_PROVIDER', `${JSON.stringify(path)} is not a plain Windows path`);
  return `'${path}'`;
}

/** sshd's service key: SCM merges its `Environment` (REG_MULTI_SZ) into the service's at every start. */
const SSHD_SERVICE_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\sshd';

/**
 * The end of a Windows first-boot script (PowerShell lines, run as LocalSystem with
 * `$ErrorActionPreference = 'Stop'`, after the config and identity sync are written): the agent's
 * account, its directories, the firewall rule that takes its network away, the environment that
 * points it at the supervisor's egress gateway (`config.hostEgress`, the same the supervisor is
 * given), the host SSH server, then the supervisor. In that order: the supervisor must never start
 * before the agent is cut off, nor a terminal before its environment names the gateway.
 * Deterministic: the account's password is drawn on the VM, never rendered.
 */
export function windowsAgentBootstrap(config: {
  readonly workdir: string;
  readonly homeDir: string;
  readonly hostEgress?: HostEgressConfig | undefined;
  readonly releases?: { readonly stateDir: string } | undefined;
}): string[] {
  if (!config.hostEgress)
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      "a Windows guest's supervisor config has no hostEgress: the first-boot script points the agent at that gateway",
    );
  const environment = windowsAgentEnvironment(config.hostEgress);
  const agent = WINDOWS_AGENT_ACCOUNT;
  /** `icacls TARGET` granting SYSTEM and Administrators full control and dropping everything inherited. */
  const grantPrivate = (target: string) =>
    `icacls ${target} /inheritance:r /grant:r "*${SYSTEM_SID}:(OI)(CI)F" "*${ADMINISTRATORS_SID}:(OI)(CI)F"`;
  return [
    '# Native commands do not stop the script on failure by themselves.',
    'function Assert-Exit([string]$what) { if ($LASTEXITCODE -ne 0) { throw "paddock: $what failed (exit $LASTEXITCODE)" } }',
    `# The agent's account: every terminal logs in as it through the host's own OpenSSH server. Made`,
    '# here, not in the image (sysprep gives every VM new local SIDs); remade if a failed run left one.',
    '# Its password is random, drawn here, never written anywhere and never used: sshd logs in by key.',
    `$agent = '${agent}'`,
    'if (Get-LocalUser -Name $agent -ErrorAction SilentlyContinue) { Remove-LocalUser -Name $agent }',
    '$random = New-Object byte[] 48',
    '$rng = [Security.Cryptography.RandomNumberGenerator]::Create()',
    '$rng.GetBytes($random)',
    '$rng.Dispose()',
    "$password = ConvertTo-SecureString ('Pk1!' + [Convert]::ToBase64String($random)) -AsPlainText -Force",
    '[Array]::Clear($random, 0, $random.Length)',
    "New-LocalUser -Name $agent -Password $password -PasswordNeverExpires -AccountNeverExpires -UserMayNotChangePassword -Description 'Paddock workspace terminals (gateway only)' | Out-Null",
    "Remove-Variable -Name 'password', 'random'",
    '$sid = (Get-LocalUser -Name $agent).SID.Value',
    `# A member of Users and of nothing else.`,
    `if (-not (Get-LocalGroupMember -SID '${USERS_SID}' -Member $agent -ErrorAction SilentlyContinue)) { Add-LocalGroupMember -SID '${USERS_SID}' -Member $agent }`,
    "# The agent's workspace and home: SYSTEM, Administrators and the agent, nobody else. Reset first:",
    "# a rebuilt VM's data disk still names the previous VM's account.",
    `foreach ($dir in ${quoted(config.workdir)},${quoted(config.homeDir)}) {`,
    '  New-Item -ItemType Directory -Force -Path $dir | Out-Null',
    "  icacls $dir /reset /Q | Out-Null; Assert-Exit 'icacls /reset'",
    `  ${grantPrivate('$dir')} "*\${sid}:(OI)(CI)F" /Q | Out-Null; Assert-Exit 'icacls /grant'`,
    '  icacls $dir /setowner "*$sid" /Q | Out-Null; Assert-Exit \'icacls /setowner\'',
    '}',
    "# The supervisor's authorized key for the SSH server: SYSTEM and Administrators only (sshd refuses",
    '# a key file anyone else may write).',
    `$sshDir = ${quoted(parentOf(WINDOWS_HOST_SSH.authorizedKeysFile))}`,
    'New-Item -ItemType Directory -Force -Path $sshDir | Out-Null',
    `${grantPrivate('$sshDir')} /Q | Out-Null; Assert-Exit 'icacls'`,
    ...(config.releases
      ? [
          "# The supervisor's trusted release metadata and last good bundle: SYSTEM and Administrators",
          '# only. It may be on the data disk, whose root other accounts can write, and a rebuilt',
          "# VM's disk still carries it: reset first. An agent that could write it could plant a root.",
          `$releasesDir = ${quoted(config.releases.stateDir)}`,
          'New-Item -ItemType Directory -Force -Path $releasesDir | Out-Null',
          "icacls $releasesDir /reset /Q | Out-Null; Assert-Exit 'icacls /reset'",
          `${grantPrivate('$releasesDir')} /Q | Out-Null; Assert-Exit 'icacls'`,
        ]
      : []),
    '# No network for the agent: every outbound connection its processes make is blocked, on every',
    '# profile (a block rule wins over any allow rule). Loopback is exempt from Windows Firewall rules,',
    '# so the agent still reaches the local sshd and supervisor, and nothing else. Work a system service',
    '# does on its behalf (the DNS client, BITS) is not its traffic: the VM boundary still holds there.',
    'Set-NetFirewallProfile -All -Enabled True',
    `Get-NetFirewallRule -Name '${WINDOWS_AGENT_FIREWALL_RULE}' -ErrorAction SilentlyContinue | Remove-NetFirewallRule`,
    `New-NetFirewallRule -Name '${WINDOWS_AGENT_FIREWALL_RULE}' -DisplayName 'Paddock agent: no network' -Direction Outbound -Action Block -LocalUser "D:(A;;CC;;;$sid)" -Profile Any | Out-Null`,
    "# The agent's way out: the supervisor's egress gateway on 127.0.0.1 (an explicit proxy and SOCKS5;",
    '# loopback is exempt from the rule above). Only clients that honour the proxy variables use it:',
    '# nothing intercepts the rest, which the rule drops. The CA bundle the supervisor writes for it is',
    '# in a directory the agent may read, not write (SYSTEM and Administrators full control, Users read',
    '# and execute). Remade: nothing in it predates this VM.',
    `$caDir = ${quoted(parentOf(config.hostEgress.caCertFile))}`,
    'if (Test-Path $caDir) { Remove-Item -Recurse -Force -Path $caDir }',
    'New-Item -ItemType Directory -Force -Path $caDir | Out-Null',
    `${grantPrivate('$caDir')} "*${USERS_SID}:(OI)(CI)RX" /Q | Out-Null; Assert-Exit 'icacls'`,
    `icacls $caDir /setowner "*${ADMINISTRATORS_SID}" /Q | Out-Null; Assert-Exit 'icacls /setowner'`,
    "# Machine scope, so that every process of every agent logon has them: sshd builds each terminal's",
    "# environment (both modes) from the machine's. Newer sshd releases read the registry at each logon;",
    "# 8.1 (Windows Server 2022's) passes on its own environment, which for a LocalSystem service is the",
    "# one services.exe read at boot, before these existed: hence sshd's service Environment too (merged",
    "# in at every start of the service). Both are set before sshd starts. SYSTEM's processes see them as",
    "# well: the supervisor's Node reads no proxy variable (no NODE_USE_ENV_PROXY) and trusts the",
    "# workspace CA, its own; Windows PowerShell 5.1's web cmdlets, which fetch-identity.ps1 uses (the",
    '# wrapper runs powershell.exe), take the WinINet proxy settings, not these (.NET Framework).',
    ...environment.map(
      ([name, value]) => `[Environment]::SetEnvironmentVariable('${name}', '${value}', 'Machine')`,
    ),
    `Set-ItemProperty -Path '${SSHD_SERVICE_KEY}' -Name Environment -Type MultiString -Value @(${environment
      .map(([name, value]) => `'${name}=${value}'`)
      .join(', ')})`,
    '# The host SSH server (the image configures it: loopback only, this account only, keys only). Its',
    '# first start makes this VM its own host keys; the supervisor announces and pins the ed25519 one.',
    'Set-Service -Name sshd -StartupType Automatic',
    'Start-Service -Name sshd',
    `if (-not (Test-Path ${quoted(WINDOWS_HOST_SSH.hostKeyFile)})) { throw 'paddock: sshd made no ed25519 host key' }`,
    '# The golden image registers the PaddockSupervisor task disabled; enable and start it.',
    `Enable-ScheduledTask -TaskName '${WINDOWS_SUPERVISOR_TASK}' | Out-Null`,
    `Start-ScheduledTask -TaskName '${WINDOWS_SUPERVISOR_TASK}'`,
  ];
}
