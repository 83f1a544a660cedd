import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { supervisorConfig, windowsBootstrap } from '../../src/providers/azure/index.ts';
import { renderKubeVirt, WINDOWS_GUEST } from '../../src/providers/kubevirt/index.ts';
import type { HostEgressConfig } from '../../src/core/channel/index.ts';
import { identitySyncCommand } from '../../src/supervisor/workspace/service-loop.ts';
import {
  WINDOWS_AGENT_ACCOUNT,
  WINDOWS_AGENT_FIREWALL_RULE,
  WINDOWS_HOST_EGRESS,
  WINDOWS_HOST_SSH,
  WINDOWS_IDENTITY_SYNC,
  WINDOWS_SUPERVISOR_CONFIG,
  WINDOWS_SUPERVISOR_TASK,
  windowsAgentBootstrap,
} from '../../src/providers/windows-guest.ts';
import { describeSyntaxErrors, powershellSyntaxErrors } from '../support/powershell-syntax.ts';
import { windowsFixtureInput } from './kubevirt/render-fixture.ts';
import { fixtureAnchor } from './release-fixture.ts';

// The Windows first-boot scripts of both VM providers (KubeVirt's cloudbase-init user data and
// Azure's custom data) and the golden image script they rely on: the agent's account and its
// firewall rule before anything starts, the environment that points the agent at the supervisor's
// egress gateway and the CA directory it reads, the host SSH server the image configures, the task
// that runs the supervisor. CI has no Windows, so none of this runs here: these are checks of the text
// (what it does and in what order) and a real PowerShell parse (tree-sitter's grammar, as wasm).

const IMAGE_SCRIPT_URL = new URL('../../deploy/azure/scripts/install-paddock.ps1', import.meta.url);
const imageScript = (): string => readFileSync(IMAGE_SCRIPT_URL, 'utf8');

const azureInput = {
  workspaceId: 'ws-00000000cafe',
  channelUrl: 'wss://paddock.example.com/channel',
  blueprint: 'docs-research',
  profile: 'dev-windows',
  files: [{ path: 'blueprints/docs-research.yaml', content: 'kind: Blueprint\n' }],
  identitySecretUrl: 'https://kv-paddock.vault.azure.net/secrets/ws-00000000cafe-identity',
  managedIdentityId:
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i',
  releases: fixtureAnchor(),
};

/** Every Windows cloudbase-init user data the KubeVirt fixture renders. */
async function kubevirtUserData(): Promise<string[]> {
  const render = renderKubeVirt(await windowsFixtureInput());
  return [...render.namespaces.values()]
    .flat()
    .filter((object) => object.kind === 'Secret' && object.metadata.name.endsWith('-cloud-init'))
    .map((secret) =>
      Buffer.from(
        String((secret as { data?: Record<string, string> }).data?.['userdata']),
        'base64',
      ).toString('utf8'),
    );
}

/** The first-boot script of each provider, by name. */
async function bootstraps(): Promise<Map<string, string>> {
  const [kubevirt] = await kubevirtUserData();
  assert.ok(kubevirt, 'the fixture renders a Windows workspace');
  return new Map([
    ['kubevirt cloudbase-init user data', kubevirt],
    ['azure custom data', windowsBootstrap(azureInput)],
  ]);
}

/** The line index of the first line matching `pattern` (fails when none does). */
function lineOf(script: string, pattern: RegExp): number {
  const index = script.split(/\r?\n/).findIndex((line) => pattern.test(line));
  assert.ok(index >= 0, `no line matches ${pattern}`);
  return index;
}

/** The sshd_config the image writes: the here-string assigned to $sshdConfig. */
function imageSshdConfig(script: string): string[] {
  const match = /^\$sshdConfig = @'\r?\n([\s\S]*?)\r?\n'@$/m.exec(script);
  assert.ok(match?.[1], 'the image script writes an sshd_config here-string');
  return match[1].split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

/** sshd_config keyword (lowercase, as sshd compares them) -> every value it is given. */
function sshdKeywords(lines: readonly string[]): Map<string, string[]> {
  const keywords = new Map<string, string[]>();
  for (const line of lines) {
    const [keyword = '', ...rest] = line.trim().split(/\s+/);
    const key = keyword.toLowerCase();
    keywords.set(key, [...(keywords.get(key) ?? []), rest.join(' ')]);
  }
  return keywords;
}

/** `C:\ProgramData\x\y` as sshd_config on Windows writes it: `__PROGRAMDATA__/x/y`. */
const programDataToken = (path: string): string =>
  path.replace(/^C:\\ProgramData\\/, '__PROGRAMDATA__/').replaceAll('\\', '/');

/**
 * Where a script could leak the agent's password: it must be drawn on the VM from the crypto
 * RNG, handed only to New-LocalUser, and never rendered, logged or written.
 */
function passwordLeaks(script: string): string[] {
  const leaks: string[] = [];
  const lines = script.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const at = `line ${index + 1}: ${line.trim()}`;
    if (/ConvertTo-SecureString\s+['"]/.test(line)) leaks.push(`${at} (a literal password)`);
    if (/-Password\s+(?!\$password\b)/.test(line)) leaks.push(`${at} (a password that is not the drawn one)`);
    if (/Get-Random/.test(line)) leaks.push(`${at} (not a crypto RNG)`);
    if (/\$password\b/.test(line)) {
      const allowed =
        /^\$password = ConvertTo-SecureString \(.*\[Convert\]::ToBase64String\(\$random\)\) -AsPlainText -Force$/.test(
          line,
        ) ||
        /^New-LocalUser -Name \$agent -Password \$password /.test(line) ||
        /^Remove-Variable -Name 'password'/.test(line);
      if (!allowed) leaks.push(`${at} (the password used beyond creating the account)`);
    }
  }
  const drawn = lines.findIndex((line) => /^\$rng\.GetBytes\(\$random\)$/.test(line));
  const generator = lines.findIndex((line) =>
    /^\$rng = \[Security\.Cryptography\.RandomNumberGenerator\]::Create\(\)$/.test(line),
  );
  if (generator < 0 || drawn < generator) leaks.push('the password is not drawn from the crypto RNG');
  return leaks;
}

/** The supervisor config the KubeVirt user data writes (decoded from its Write-Gz line). */
function writtenConfig(userData: string): {
  hostSsh?: unknown;
  hostEgress?: HostEgressConfig;
  providerPid?: number;
} {
  const written = /^Write-Gz 'C:\\ProgramData\\Paddock\\supervisor\.json' '([^']+)'\r?$/m.exec(userData);
  assert.ok(written?.[1], 'the user data writes supervisor.json');
  return JSON.parse(gunzipSync(Buffer.from(written[1], 'base64')).toString('utf8'));
}

/** What the agent's logons must see, from the gateway's config alone (spelled out, not computed by the code under test). */
function gatewayEnvironment(egress: HostEgressConfig): Map<string, string> {
  return new Map([
    ['HTTP_PROXY', `http://127.0.0.1:${egress.proxyPort}`],
    ['HTTPS_PROXY', `http://127.0.0.1:${egress.proxyPort}`],
    ['ALL_PROXY', `socks5h://127.0.0.1:${egress.socksPort}`],
    ['NO_PROXY', 'localhost,127.0.0.1'],
    ['SSL_CERT_FILE', egress.caCertFile],
    ['NODE_EXTRA_CA_CERTS', egress.caCertFile],
    ['REQUESTS_CA_BUNDLE', egress.caCertFile],
    ['GIT_SSL_CAINFO', egress.caCertFile],
  ]);
}

const SSHD_ENVIRONMENT_LINE =
  /^Set-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\sshd' -Name Environment -Type MultiString -Value @\((.*)\)$/;

/**
 * How a script's environment for the agent departs from the gateway's config: the machine
 * variables (`[Environment]::SetEnvironmentVariable(NAME, VALUE, 'Machine')`) and sshd's service
 * Environment must both be exactly `gatewayEnvironment(egress)`, one spelling per name (Windows
 * compares names case-insensitively), machine scope only, and nothing that would send SYSTEM's
 * own connections (the supervisor's channel) through the gateway.
 */
function environmentProblems(script: string, egress: HostEgressConfig): string[] {
  const problems: string[] = [];
  const expected = gatewayEnvironment(egress);
  const machine = new Map<string, string>();
  const lines = script.split(/\r?\n/);
  for (const line of lines) {
    if (!/SetEnvironmentVariable/.test(line)) continue;
    const match = /^\[Environment\]::SetEnvironmentVariable\('([^']+)', '([^']*)', '([^']+)'\)$/.exec(line);
    if (!match) {
      problems.push(`not a plain machine variable: ${line}`);
      continue;
    }
    const [, name = '', value = '', scope = ''] = match;
    if (scope !== 'Machine') problems.push(`${name}: scope ${scope}, not Machine`);
    if ([...machine.keys()].some((known) => known.toUpperCase() === name.toUpperCase()))
      problems.push(`${name}: set twice (names are case-insensitive on Windows)`);
    machine.set(name, value);
  }
  const compare = (where: string, actual: Map<string, string>) => {
    for (const [name, value] of expected)
      if (actual.get(name) !== value) problems.push(`${where} ${name}=${actual.get(name)}, want ${value}`);
    for (const name of actual.keys()) if (!expected.has(name)) problems.push(`${where} sets ${name}`);
  };
  compare('machine', machine);
  const sshdLines = lines.filter((line) => /Services\\sshd/.test(line));
  const sshd = new Map<string, string>();
  const sshdLine = SSHD_ENVIRONMENT_LINE.exec(sshdLines[0] ?? '');
  if (sshdLines.length !== 1 || !sshdLine)
    problems.push("sshd's service Environment is not set exactly once");
  else
    for (const [, entry = ''] of (sshdLine[1] ?? '').matchAll(/'([^']*)'/g)) {
      const at = entry.indexOf('=');
      sshd.set(entry.slice(0, at), entry.slice(at + 1));
    }
  compare("sshd's service", sshd);
  if (lines.some((line) => !line.trimStart().startsWith('#') && /NODE_USE_ENV_PROXY/i.test(line)))
    problems.push('NODE_USE_ENV_PROXY routes the supervisor itself');
  return problems;
}

/** The CA directory's grant line: `icacls $caDir /inheritance:r /grant:r "*SID:(OI)(CI)RIGHTS" ...`. */
const CA_DIR_GRANT =
  /^icacls \$caDir \/inheritance:r \/grant:r ((?:"\*[^"]+" )+)\/Q \| Out-Null; Assert-Exit /;

/**
 * How a script's CA directory departs from "the agent may read, nobody but SYSTEM and
 * Administrators may write": the parent of `caCertFile`, remade, nothing inherited, SYSTEM and
 * Administrators full control, Users read & execute and nothing more, owned by Administrators,
 * and no other icacls on it.
 */
function caDirectoryProblems(script: string, caCertFile: string): string[] {
  const problems: string[] = [];
  const lines = script.split(/\r?\n/);
  const dir = caCertFile.slice(0, caCertFile.lastIndexOf('\\'));
  const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
  if (!lines.includes(`$caDir = '${dir}'`)) problems.push(`$caDir is not ${dir}`);
  const removed = at(/^if \(Test-Path \$caDir\) \{ Remove-Item -Recurse -Force -Path \$caDir \}$/);
  const made = at(/^New-Item -ItemType Directory -Force -Path \$caDir \| Out-Null$/);
  const icaclsLines = lines.filter((line) => /\$caDir/.test(line) && /icacls/.test(line));
  const grant = CA_DIR_GRANT.exec(icaclsLines[0] ?? '');
  if (removed < 0 || made < removed) problems.push('the directory is not remade');
  if (!grant) return [...problems, `no grant line that drops inheritance: ${icaclsLines[0]}`];
  const granted = new Map<string, string>();
  for (const [, sid = '', rights = ''] of (grant[1] ?? '').matchAll(/"\*([^:"]+):([^"]+)"/g))
    granted.set(sid, rights.replace(/\((OI|CI|IO|NP)\)/g, ''));
  for (const [sid, rights] of granted) {
    const admin = sid === 'S-1-5-18' || sid === 'S-1-5-32-544';
    if (!admin && sid !== 'S-1-5-32-545') problems.push(`${sid} may be granted nothing`);
    else if (admin ? rights !== 'F' : !['R', 'RX'].includes(rights)) problems.push(`${sid} gets ${rights}`);
  }
  for (const sid of ['S-1-5-18', 'S-1-5-32-544', 'S-1-5-32-545'])
    if (!granted.has(sid)) problems.push(`${sid} is not granted`);
  if (
    icaclsLines[1] !== `icacls $caDir /setowner "*S-1-5-32-544" /Q | Out-Null; Assert-Exit 'icacls /setowner'`
  )
    problems.push(`not owned by Administrators: ${icaclsLines[1]}`);
  if (icaclsLines.length !== 2) problems.push(`${icaclsLines.length} icacls lines on $caDir`);
  if (made > lines.indexOf(icaclsLines[0] ?? ''))
    problems.push('the grant comes before the directory exists');
  return problems;
}

describe('windows guest: first-boot scripts (both providers)', () => {
  it('the bootstrap creates the account before the firewall rule, the firewall rule before the gateway environment and CA directory, and all of them before sshd and the supervisor task start (both providers)', async () => {
    for (const [name, script] of await bootstraps()) {
      const account = lineOf(script, /^New-LocalUser -Name \$agent /);
      const sid = lineOf(script, /^\$sid = \(Get-LocalUser -Name \$agent\)\.SID\.Value$/);
      const rule = lineOf(script, new RegExp(`^New-NetFirewallRule -Name '${WINDOWS_AGENT_FIREWALL_RULE}' `));
      const sshd = lineOf(script, /^Start-Service -Name sshd$/);
      const enable = lineOf(script, /^Enable-ScheduledTask -TaskName 'PaddockSupervisor'/);
      const start = lineOf(script, /^Start-ScheduledTask -TaskName 'PaddockSupervisor'$/);
      const config = lineOf(script, /^Write-Gz 'C:\\ProgramData\\Paddock\\supervisor\.json' /);
      const caDir = lineOf(script, /^icacls \$caDir \/inheritance:r /);
      const machineEnv = script
        .split(/\r?\n/)
        .flatMap((line, index) => (/^\[Environment\]::SetEnvironmentVariable\(/.test(line) ? [index] : []));
      const sshdEnv = lineOf(script, SSHD_ENVIRONMENT_LINE);
      assert.ok(
        account < sid && sid < rule,
        `${name}: the rule names the account's SID, so it comes after it`,
      );
      assert.ok(rule < sshd, `${name}: sshd starts only once the agent has no network`);
      assert.ok(sshd < enable && enable < start, `${name}: the task starts last`);
      assert.ok(config < start, `${name}: the config is written before the task starts`);
      // The gateway's environment and CA directory: in place before any terminal or the supervisor.
      assert.equal(machineEnv.length, 8, name);
      for (const at of [caDir, ...machineEnv, sshdEnv]) {
        assert.ok(rule < at, `${name}: line ${at + 1} comes after the agent is cut off`);
        assert.ok(at < sshd, `${name}: line ${at + 1} is in place before sshd starts (terminals inherit it)`);
        assert.ok(at < start, `${name}: line ${at + 1} is in place before the task starts`);
      }
      // Nothing else starts the supervisor, and the old Windows service is gone.
      assert.equal(script.match(/Start-ScheduledTask/g)?.length, 1, name);
      assert.doesNotMatch(
        script,
        /New-Service|Set-Service -Name PaddockSupervisor|Start-Service -Name PaddockSupervisor/,
      );
      assert.match(
        script.split(/\r?\n/).find((line) => line.startsWith('$ErrorActionPreference')) ?? '',
        /'Stop'/,
      );
    }
  });

  it('the firewall rule blocks every outbound packet of the agent account, on every profile, and nothing narrows it', async () => {
    for (const [name, script] of await bootstraps()) {
      const line = script.split(/\r?\n/)[lineOf(script, /^New-NetFirewallRule /)] ?? '';
      assert.match(line, / -Direction Outbound /, name);
      assert.match(line, / -Action Block /, name);
      assert.match(line, / -LocalUser "D:\(A;;CC;;;\$sid\)" /, name);
      assert.match(line, / -Profile Any /, name);
      // A condition would leave the rest of the agent's traffic allowed: there must be none.
      for (const narrowing of [
        'RemoteAddress',
        'RemotePort',
        'Protocol',
        'LocalPort',
        'LocalAddress',
        'Program',
        'Service',
        'InterfaceType',
        'InterfaceAlias',
        'Enabled',
      ])
        assert.ok(!line.includes(` -${narrowing} `), `${name}: -${narrowing} narrows the rule`);
      assert.match(script, /^Set-NetFirewallProfile -All -Enabled True$/m, `${name}: the firewall is on`);
      assert.ok(lineOf(script, /^Set-NetFirewallProfile /) < lineOf(script, /^New-NetFirewallRule /));
    }
  });

  it('the account: Users only, a password nobody keeps, its workspace and home for SYSTEM, Administrators and itself only; the key directory for SYSTEM and Administrators only', async () => {
    for (const [name, script] of await bootstraps()) {
      assert.match(script, new RegExp(`^\\$agent = '${WINDOWS_AGENT_ACCOUNT}'$`, 'm'), name);
      assert.match(script, / -PasswordNeverExpires /, name);
      assert.deepEqual(
        script.match(/Add-LocalGroupMember -SID '([^']+)'/g),
        ["Add-LocalGroupMember -SID 'S-1-5-32-545'"],
        `${name}: Users and no other group`,
      );
      const grants = script
        .split(/\r?\n/)
        .filter((line) => /icacls \$(dir|sshDir) \/inheritance:r/.test(line));
      assert.equal(grants.length, 2, name);
      assert.deepEqual(
        [...(grants[0] ?? '').matchAll(/"\*([^:"]+):/g)].map((match) => match[1]),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: PowerShell's ${sid}, not a template
        ['S-1-5-18', 'S-1-5-32-544', '${sid}'],
        `${name}: workspace and home`,
      );
      assert.deepEqual(
        [...(grants[1] ?? '').matchAll(/"\*([^:"]+):/g)].map((match) => match[1]),
        ['S-1-5-18', 'S-1-5-32-544'],
        `${name}: the authorized key directory`,
      );
      // Every native command's exit code is checked: the script fails rather than go on half-done.
      for (const line of script.split(/\r?\n/).filter((line) => /^\s*icacls /.test(line)))
        assert.ok(
          /Assert-Exit|\$LASTEXITCODE/.test(line) || script.includes(`${line}\r\nif ($LASTEXITCODE`),
          line,
        );
    }
  });

  it('no secret (password) appears in rendered output: renders are deterministic and the password is drawn on the VM', async () => {
    for (const [name, script] of await bootstraps()) assert.deepEqual(passwordLeaks(script), [], name);
    // Two renders are the same bytes: nothing random (no password) is chosen at render time.
    assert.deepEqual(await kubevirtUserData(), await kubevirtUserData());
    assert.equal(windowsBootstrap(azureInput), windowsBootstrap(azureInput));
    // Nor is one in the supervisor's config.
    assert.doesNotMatch(JSON.stringify(supervisorConfig(azureInput, 'windows')), /password/i);
  });

  it('the leak check is live: a literal password, a weak RNG or a password written to disk is caught', () => {
    const fragment = windowsAgentBootstrap({
      workdir: 'C:\\Paddock\\workspace',
      homeDir: 'C:\\Paddock\\home',
      hostEgress: WINDOWS_HOST_EGRESS,
    });
    const script = fragment.join('\r\n');
    assert.deepEqual(passwordLeaks(script), []);
    const broken = [
      script.replace(
        /^\$password = .*$/m,
        "$password = ConvertTo-SecureString 'hunter2' -AsPlainText -Force",
      ),
      script.replace('-Password $password', '-Password (Read-Host -AsSecureString)'),
      `${script}\r\nSet-Content -Path C:\\Windows\\Temp\\p.txt -Value $password`,
      script.replace(
        '$rng.GetBytes($random)',
        '$random = 1..48 | ForEach-Object { Get-Random -Maximum 256 }',
      ),
    ];
    for (const variant of broken) assert.notDeepEqual(passwordLeaks(variant), [], variant.slice(-120));
  });

  it('both providers hand the supervisor the same hostSsh (the image configures exactly that server) and pid 0', async () => {
    const [kubevirt = ''] = await kubevirtUserData();
    const kubevirtConfig = writtenConfig(kubevirt);
    const azureConfig = supervisorConfig(azureInput, 'windows');
    for (const config of [kubevirtConfig, azureConfig]) {
      assert.deepEqual(config.hostSsh, WINDOWS_HOST_SSH);
      assert.equal(config.providerPid, 0);
    }
    assert.deepEqual(WINDOWS_HOST_SSH, {
      port: 22,
      account: 'paddock-agent',
      hostKeyFile: 'C:\\ProgramData\\ssh\\ssh_host_ed25519_key.pub',
      sshClient: 'C:\\Windows\\System32\\OpenSSH\\ssh.exe',
      authorizedKeysFile: 'C:\\ProgramData\\Paddock\\ssh\\supervisor_authorized_keys',
    });
    assert.equal(WINDOWS_GUEST.supervisorConfig, WINDOWS_SUPERVISOR_CONFIG);
    assert.equal(WINDOWS_GUEST.identitySync, WINDOWS_IDENTITY_SYNC);
    // Linux keeps its sandbox terminals.
    assert.equal(supervisorConfig(azureInput, 'linux').hostSsh, undefined);
  });

  it('a path that could end a PowerShell string is refused, as are a gateway port that is not a port and a config without hostEgress', () => {
    const refused = (error: Error & { code?: string }) => error.code === 'PDK_WORKSPACE_PROVIDER';
    const dirs = { workdir: 'C:\\Paddock\\workspace', homeDir: 'C:\\Paddock\\home' };
    assert.throws(
      () =>
        windowsAgentBootstrap({
          ...dirs,
          workdir: "C:\\x'; Remove-Item C:\\ -Recurse; '",
          hostEgress: WINDOWS_HOST_EGRESS,
        }),
      refused,
    );
    for (const hostEgress of [
      { ...WINDOWS_HOST_EGRESS, caCertFile: "C:\\ProgramData\\x'; Remove-Item C:\\ -Recurse; '\\ca.pem" },
      { ...WINDOWS_HOST_EGRESS, proxyPort: 0 },
      { ...WINDOWS_HOST_EGRESS, socksPort: 65_536 },
      { ...WINDOWS_HOST_EGRESS, proxyPort: 3128.5 },
    ])
      assert.throws(
        () => windowsAgentBootstrap({ ...dirs, hostEgress }),
        refused,
        JSON.stringify(hostEgress),
      );
    // Without the gateway's config the script cannot point the agent at it: refused, not rendered without.
    assert.throws(
      () => windowsAgentBootstrap(dirs),
      (error: Error & { code?: string }) => refused(error) && /has no hostEgress/.test(error.message),
    );
  });

  it("a desired-state path that could end a PowerShell string is refused by Azure's bootstrap as by KubeVirt's (no code injection as LocalSystem)", () => {
    const files = [
      {
        path: "policies/a'; Remove-Item C:\\ -Recurse; '.cedar",
        content: 'permit(principal, action, resource);\n',
      },
    ];
    assert.throws(
      () => windowsBootstrap({ ...azureInput, files }),
      (error: Error & { code?: string }) =>
        error.code === 'PDK_AZURE_VM_INVALID' && /a Windows workspace takes only paths/.test(error.message),
    );
    assert.throws(
      () => windowsBootstrap({ ...azureInput, files: [{ path: 'blueprints/../../x.yaml', content: '' }] }),
      {
        code: 'PDK_AZURE_VM_INVALID',
      },
    );
  });

  it("the supervisor's release state (trusted root, last good bundle) is reset to SYSTEM and Administrators only before the supervisor starts (both providers; Azure keeps it on the data disk)", async () => {
    const scripts = [
      ['azure custom data', windowsBootstrap(azureInput), supervisorConfig(azureInput, 'windows')],
      ...(await kubevirtUserData()).map(
        (userData, n) => [`kubevirt user data ${n}`, userData, writtenConfig(userData)] as const,
      ),
    ] as const;
    let checked = 0;
    for (const [name, script, config] of scripts) {
      const stateDir = (config as { releases?: { stateDir: string } }).releases?.stateDir;
      if (!stateDir) continue;
      checked += 1;
      const lines = script.split('\r\n');
      const at = lines.indexOf(`$releasesDir = '${stateDir}'`);
      assert.ok(at > 0, `${name}: the release state directory ${stateDir} is locked`);
      assert.match(lines[at + 2] ?? '', /^icacls \$releasesDir \/reset \/Q/, name);
      assert.match(
        lines[at + 3] ?? '',
        /^icacls \$releasesDir \/inheritance:r \/grant:r "\*S-1-5-18:\(OI\)\(CI\)F" "\*S-1-5-32-544:\(OI\)\(CI\)F" \/Q/,
        name,
      );
      assert.ok(at < lineOf(script, /^Start-ScheduledTask/), `${name}: locked before the supervisor starts`);
    }
    assert.ok(checked >= 2, 'both providers render a workspace that follows a release channel');
  });

  it('both providers hand the supervisor the same hostEgress: the proxy on 3128, SOCKS5 on 1080, the CA bundle in C:\\ProgramData\\PaddockAgent', async () => {
    const [kubevirt = ''] = await kubevirtUserData();
    const configs = new Map<string, { hostEgress?: HostEgressConfig }>([
      ['kubevirt', writtenConfig(kubevirt)],
      ['azure', supervisorConfig(azureInput, 'windows')],
    ]);
    assert.deepEqual(WINDOWS_HOST_EGRESS, {
      proxyPort: 3128,
      socksPort: 1080,
      caCertFile: 'C:\\ProgramData\\PaddockAgent\\workspace-ca.pem',
    });
    for (const [name, config] of configs) assert.deepEqual(config.hostEgress, WINDOWS_HOST_EGRESS, name);
    // The CA file is outside Paddock's own directory, which only SYSTEM and Administrators may read.
    assert.ok(!WINDOWS_HOST_EGRESS.caCertFile.startsWith('C:\\ProgramData\\Paddock\\'));
    // Linux's sandbox has its own gateway: no hostEgress there.
    assert.equal(supervisorConfig(azureInput, 'linux').hostEgress, undefined);
  });

  it("the machine environment (and sshd's service Environment) names exactly the gateway's ports and the CA file the supervisor is given (both providers)", async () => {
    const [kubevirt = ''] = await kubevirtUserData();
    // Each script against the config it writes: the environment must name that gateway.
    const scripts: [string, string, HostEgressConfig | undefined][] = [
      ['kubevirt cloudbase-init user data', kubevirt, writtenConfig(kubevirt).hostEgress],
      ['azure custom data', windowsBootstrap(azureInput), supervisorConfig(azureInput, 'windows').hostEgress],
    ];
    for (const [name, script, egress] of scripts) {
      assert.ok(egress, `${name}: the config has hostEgress`);
      assert.deepEqual(environmentProblems(script, egress), [], name);
      // Every proxy variable names loopback: the one place the firewall rule lets the agent reach.
      for (const line of script.split(/\r?\n/).filter((line) => /_PROXY'/.test(line)))
        for (const [, host] of line.matchAll(/:\/\/([^:/']+)/g)) assert.equal(host, '127.0.0.1', line);
    }
  });

  it('the environment check is live: a wrong port, a second spelling, user scope, NODE_USE_ENV_PROXY or a stale sshd Environment is caught', () => {
    const script = windowsBootstrap(azureInput);
    const egress = WINDOWS_HOST_EGRESS;
    assert.deepEqual(environmentProblems(script, egress), []);
    const broken = [
      script.replace("'HTTPS_PROXY', 'http://127.0.0.1:3128'", "'HTTPS_PROXY', 'http://127.0.0.1:8080'"),
      script.replace("'ALL_PROXY', 'socks5h://127.0.0.1:1080'", "'ALL_PROXY', 'socks5://10.0.0.4:1080'"),
      script.replace(
        /^(\[Environment\]::SetEnvironmentVariable\('HTTP_PROXY'.*)$/m,
        "$1\r\n[Environment]::SetEnvironmentVariable('http_proxy', 'http://127.0.0.1:3128', 'Machine')",
      ),
      script.replace(
        "'GIT_SSL_CAINFO', 'C:\\ProgramData\\PaddockAgent\\workspace-ca.pem', 'Machine'",
        "'GIT_SSL_CAINFO', 'C:\\ProgramData\\PaddockAgent\\workspace-ca.pem', 'User'",
      ),
      script.replace(
        /^(\[Environment\]::SetEnvironmentVariable\('NO_PROXY'.*)$/m,
        "$1\r\n[Environment]::SetEnvironmentVariable('NODE_USE_ENV_PROXY', '1', 'Machine')",
      ),
      script.replace("'NO_PROXY=localhost,127.0.0.1'", "'NO_PROXY=*'"),
      script.replace(/^Set-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\sshd'.*\r\n/m, ''),
    ];
    for (const variant of broken) {
      assert.notEqual(variant, script, 'the variant changes the script');
      assert.notDeepEqual(environmentProblems(variant, egress), []);
    }
    // And a config the script does not match: the gateway moved, the script did not.
    assert.notDeepEqual(environmentProblems(script, { ...egress, socksPort: 1081 }), []);
  });

  it('the CA directory is not writable by Users: SYSTEM and Administrators full control, Users read & execute, nothing inherited, remade, owned by Administrators (both providers)', async () => {
    for (const [name, script] of await bootstraps())
      assert.deepEqual(caDirectoryProblems(script, WINDOWS_HOST_EGRESS.caCertFile), [], name);
  });

  it('the CA directory check is live: Users with modify or write, Everyone, inherited ACEs, an extra grant or no owner is caught', () => {
    const script = windowsBootstrap(azureInput);
    const caFile = WINDOWS_HOST_EGRESS.caCertFile;
    assert.deepEqual(caDirectoryProblems(script, caFile), []);
    const broken = [
      script.replace('"*S-1-5-32-545:(OI)(CI)RX"', '"*S-1-5-32-545:(OI)(CI)M"'),
      script.replace('"*S-1-5-32-545:(OI)(CI)RX"', '"*S-1-5-32-545:(OI)(CI)(RX,W)"'),
      script.replace('"*S-1-5-32-545:(OI)(CI)RX"', '"*S-1-5-32-545:(OI)(CI)RX" "*S-1-1-0:(OI)(CI)RX"'),
      script.replace('icacls $caDir /inheritance:r ', 'icacls $caDir '),
      script.replace(
        /^(icacls \$caDir \/setowner.*)$/m,
        `$1\r\nicacls $caDir /grant "*S-1-5-32-545:(OI)(CI)W" /Q | Out-Null; Assert-Exit 'icacls'`,
      ),
      script.replace(/^icacls \$caDir \/setowner.*\r\n/m, ''),
      script.replace(/^if \(Test-Path \$caDir\).*\r\n/m, ''),
    ];
    for (const variant of broken) {
      assert.notEqual(variant, script, 'the variant changes the script');
      assert.notDeepEqual(caDirectoryProblems(variant, caFile), []);
    }
    assert.notDeepEqual(caDirectoryProblems(script, 'C:\\ProgramData\\Elsewhere\\ca.pem'), []);
  });

  it('fetch-identity.ps1 runs in Windows PowerShell 5.1 (powershell.exe), whose web cmdlets ignore the proxy variables, and asks for no -NoProxy (5.1 has none)', async () => {
    assert.equal(identitySyncCommand(WINDOWS_IDENTITY_SYNC, 'win32')[0], 'powershell.exe');
    const azure = windowsBootstrap(azureInput);
    const fetch = /^\$fetch = @'\r\n([\s\S]*?)\r\n'@\r?$/m.exec(azure)?.[1] ?? '';
    assert.match(fetch, /Invoke-RestMethod/);
    assert.doesNotMatch(fetch, /-NoProxy|pwsh/);
  });
});

describe('windows guest: the golden image (install-paddock.ps1)', () => {
  it('sshd_config listens on loopback only and allows no forwarding', () => {
    const keywords = sshdKeywords(imageSshdConfig(imageScript()));
    const only = (keyword: string) => {
      const values = keywords.get(keyword.toLowerCase()) ?? [];
      assert.equal(values.length, 1, `${keyword} once`);
      return values[0];
    };
    assert.equal(only('ListenAddress'), '127.0.0.1');
    assert.equal(only('Port'), String(WINDOWS_HOST_SSH.port));
    assert.equal(only('AllowUsers'), WINDOWS_HOST_SSH.account);
    assert.equal(only('PubkeyAuthentication'), 'yes');
    for (const keyword of [
      'PasswordAuthentication',
      'KbdInteractiveAuthentication',
      'AllowTcpForwarding',
      'AllowStreamLocalForwarding',
      'AllowAgentForwarding',
      'PermitTunnel',
      'X11Forwarding',
      'GatewayPorts',
      'PermitUserEnvironment',
    ])
      assert.equal(only(keyword), 'no', keyword);
    assert.equal(only('LogLevel'), 'VERBOSE');
    // The key file the supervisor writes, and the ed25519 host key it pins (and no other host key).
    assert.deepEqual(only('AuthorizedKeysFile')?.split(' '), [
      '.ssh/authorized_keys',
      programDataToken(WINDOWS_HOST_SSH.authorizedKeysFile),
    ]);
    assert.equal(only('HostKey'), programDataToken(WINDOWS_HOST_SSH.hostKeyFile.replace(/\.pub$/, '')));
    // Nothing of the default config: no Match block (administrators_authorized_keys), no sftp.
    for (const keyword of ['match', 'subsystem', 'forcecommand', 'permitlisten', 'permitopen'])
      assert.equal(keywords.has(keyword), false, keyword);
    assert.deepEqual(
      [...keywords.values()].filter((values) => values.length > 1),
      [],
    );
    // The whole file is written, replacing the default one.
    assert.match(imageScript(), /^Set-Content -Path "\$sshData\\sshd_config" -Value \$sshdConfig /m);
  });

  it('the image deletes host keys (every VM makes its own) and never starts sshd itself', () => {
    const script = imageScript();
    const removed = lineOf(script, /^Remove-Item -Path "\$sshData\\ssh_host_\*" -Force$/);
    assert.ok(lineOf(script, /^Add-WindowsCapability |Add-WindowsCapability -Online/) < removed);
    assert.ok(lineOf(script, /^Set-Content -Path "\$sshData\\sshd_config"/) < removed);
    assert.ok(
      lineOf(script, /^if \(Get-ChildItem -Path \$sshData -Filter 'ssh_host_\*'\) \{ throw /) > removed,
    );
    assert.doesNotMatch(script, /Start-Service -Name sshd|Restart-Service|ssh-keygen/);
    assert.match(script, /^Set-Service -Name sshd -StartupType Manual$/m);
    // Port 22 inbound, which the capability opens, is removed; RDP stays off.
    assert.match(script, /Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' .*\| Remove-NetFirewallRule/);
    assert.match(script, /fDenyTSConnections -Value 1/);
  });

  it('the image registers the PaddockSupervisor task (SYSTEM, at startup, no time limit, restarted) disabled, running the wrapper with the paths the bootstraps write', () => {
    const script = imageScript();
    assert.doesNotMatch(
      script,
      /New-Service|sc\.exe|throw 'this Paddock bundle has no Windows supervisor service/,
    );
    assert.match(script, /\$entry = "\$root\\app\\src\\supervisor\\workspace\\windows-service\.ts"/);
    assert.ok(readFileSync(new URL('../../src/supervisor/workspace/windows-service.ts', import.meta.url)));
    const argumentsLine = /^\$arguments = "(.*)"$/m.exec(script)?.[1] ?? '';
    assert.match(
      argumentsLine,
      new RegExp(` --config ${WINDOWS_SUPERVISOR_CONFIG.replaceAll('\\', '\\\\')} `),
    );
    assert.match(
      argumentsLine,
      new RegExp(` --identity-sync ${WINDOWS_IDENTITY_SYNC.replaceAll('\\', '\\\\')}( |$)`),
    );
    assert.match(script, /New-ScheduledTaskAction -Execute "\$root\\node\\node\.exe" -Argument \$arguments/);
    assert.match(script, /^\$trigger = New-ScheduledTaskTrigger -AtStartup$/m);
    assert.match(
      script,
      /New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\\SYSTEM' -LogonType ServiceAccount -RunLevel Highest/,
    );
    assert.match(
      script,
      /New-ScheduledTaskSettingsSet -ExecutionTimeLimit \(\[TimeSpan\]::Zero\) -RestartCount 999 -RestartInterval \(New-TimeSpan -Minutes 1\) -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries/,
    );
    const registered = lineOf(
      script,
      new RegExp(`^Register-ScheduledTask -TaskName '${WINDOWS_SUPERVISOR_TASK}' `),
    );
    const disabled = lineOf(
      script,
      new RegExp(`^Disable-ScheduledTask -TaskName '${WINDOWS_SUPERVISOR_TASK}'`),
    );
    assert.ok(registered < disabled);
    assert.doesNotMatch(script, /Enable-ScheduledTask|Start-ScheduledTask/);
  });
});

describe('windows guest: every PowerShell script Paddock ships or renders parses (tree-sitter)', () => {
  /** name -> script: the image script, both bootstraps and the identity syncs they write. */
  async function shippedScripts(): Promise<Map<string, string>> {
    const scripts = new Map<string, string>([['deploy/azure/scripts/install-paddock.ps1', imageScript()]]);
    for (const [name, script] of await bootstraps()) scripts.set(name, script);
    const azure = windowsBootstrap(azureInput);
    const fetch = /^\$fetch = @'\r\n([\s\S]*?)\r\n'@\r?$/m.exec(azure)?.[1];
    assert.ok(fetch, 'the azure bootstrap writes fetch-identity.ps1');
    scripts.set('azure fetch-identity.ps1', fetch);
    const [kubevirt = ''] = await kubevirtUserData();
    const sync = new RegExp(
      `^Write-Gz '${WINDOWS_IDENTITY_SYNC.replaceAll('\\', '\\\\')}' '([^']+)'\\r?$`,
      'm',
    ).exec(kubevirt)?.[1];
    assert.ok(sync, 'the kubevirt user data writes fetch-identity.ps1');
    scripts.set('kubevirt fetch-identity.ps1', gunzipSync(Buffer.from(sync, 'base64')).toString('utf8'));
    return scripts;
  }

  it('install-paddock.ps1, both first-boot scripts and both identity syncs have no ERROR or MISSING node', async () => {
    const scripts = await shippedScripts();
    assert.equal(scripts.size, 5);
    for (const [name, script] of scripts) {
      const errors = await powershellSyntaxErrors(script);
      assert.equal(errors.length, 0, describeSyntaxErrors(name, errors));
    }
  });

  it("the egress lines (CA directory, machine environment, sshd's service Environment) parse on their own, and one broken is caught on its line", async () => {
    const lines = windowsBootstrap(azureInput).split('\r\n');
    const first = lines.findIndex((line) => line.startsWith('$caDir = '));
    const last = lines.findIndex((line) => SSHD_ENVIRONMENT_LINE.test(line));
    assert.ok(first > 0 && last - first >= 12, 'the bootstrap has the egress block');
    const block = lines.slice(first, last + 1).join('\r\n');
    assert.deepEqual(await powershellSyntaxErrors(block), [], block);
    for (const pattern of [
      /^\[Environment\]::SetEnvironmentVariable\('HTTPS_PROXY'/,
      SSHD_ENVIRONMENT_LINE,
    ]) {
      const broken = [...lines];
      const target = broken.findIndex((line) => pattern.test(line));
      broken[target] = broken[target]?.replace(/\)$/, '') ?? '';
      const found = await powershellSyntaxErrors(broken.join('\r\n'));
      assert.equal(found[0]?.line, target + 1, describeSyntaxErrors('azure custom data', found));
    }
  });

  it('the check can fail: a deliberately broken script is reported with its name and line', async () => {
    const broken = [
      "$ErrorActionPreference = 'Stop'",
      'if ($agent) {',
      "  Write-Output 'no closing brace'",
      '',
    ].join('\r\n');
    const errors = await powershellSyntaxErrors(broken);
    assert.ok(errors.length > 0);
    assert.match(describeSyntaxErrors('broken.ps1', errors), /^broken\.ps1:\d+:\d+ (ERROR|MISSING)/);
    assert.deepEqual(await powershellSyntaxErrors("$x = (1 +\r\nWrite-Output 'y'\r\n"), [
      { line: 1, column: 1, kind: 'ERROR', text: '$x = (1 +' },
    ]);
    // The real bootstrap, one quote dropped: caught, on the line it was dropped from.
    const lines = windowsBootstrap(azureInput).split('\r\n');
    const target = lines.findIndex((line) => line.startsWith('$agent = '));
    lines[target] = lines[target]?.replace(/'$/, '') ?? '';
    const found = await powershellSyntaxErrors(lines.join('\r\n'));
    assert.ok(found.length > 0, 'an unterminated string is caught');
    assert.equal(found[0]?.line, target + 1, describeSyntaxErrors('azure custom data', found));
  });
});
