import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { PaddockError } from '../../core/errors.ts';
import { ensureNativeBinaries } from './native-binaries.ts';
import { hostSeccompArch } from './seccomp/syscall-table.ts';

// What the host must offer for a sandbox, probed without side effects. `paddock doctor` shows
// every probe; the launcher re-checks the cheap required ones before each launch (fail closed).

export type FeatureStatus = 'ok' | 'missing';

export interface FeatureReport {
  /** Stable id, e.g. `userns`. */
  readonly id: string;
  readonly name: string;
  readonly status: FeatureStatus;
  /** Whether a sandbox refuses to start without it. */
  readonly required: boolean;
  /** What was found (a version, a value, the controllers). */
  readonly detail: string;
  /** What to do when it is missing. */
  readonly fix?: string;
}

/** Oldest bubblewrap with --disable-userns and --assert-userns-disabled. */
export const MIN_BWRAP_VERSION = [0, 8, 0] as const;
export const BWRAP_PATH = '/usr/bin/bwrap';

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

const run = (file: string, args: string[]): string | undefined => {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    }).trim();
  } catch {
    return undefined;
  }
};

function report(
  id: string,
  name: string,
  ok: boolean,
  required: boolean,
  detail: string,
  fix: string,
): FeatureReport {
  return { id, name, status: ok ? 'ok' : 'missing', required, detail, ...(ok ? {} : { fix }) };
}

export function probeUserNamespaces(): FeatureReport {
  const max = Number(readText('/proc/sys/user/max_user_namespaces') ?? '0');
  const debianSwitch = readText('/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = readText('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const ok = max > 0 && debianSwitch !== '0' && apparmor !== '1';
  const detail = `user.max_user_namespaces=${max}${debianSwitch ? `, kernel.unprivileged_userns_clone=${debianSwitch}` : ''}${apparmor ? `, kernel.apparmor_restrict_unprivileged_userns=${apparmor}` : ''}`;
  return report(
    'userns',
    'user namespaces (unprivileged)',
    ok,
    true,
    detail,
    'sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for /usr/bin/bwrap',
  );
}

export function probeNetworkNamespaces(): FeatureReport {
  const max = Number(readText('/proc/sys/user/max_net_namespaces') ?? '0');
  const ok = existsSync('/proc/self/ns/net') && max > 0;
  return report(
    'netns',
    'network namespaces',
    ok,
    true,
    `user.max_net_namespaces=${max}`,
    'Use a kernel built with CONFIG_NET_NS=y and set user.max_net_namespaces above 0.',
  );
}

export function probeBubblewrap(): FeatureReport {
  const version = run(BWRAP_PATH, ['--version'])?.replace(/^bubblewrap\s+/, '');
  const parts = (version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  const recent = version !== undefined && compareVersions(parts, MIN_BWRAP_VERSION) >= 0;
  return report(
    'bwrap',
    'bubblewrap',
    recent,
    true,
    version ? `${BWRAP_PATH} ${version}` : `${BWRAP_PATH} not found`,
    `Install bubblewrap ${MIN_BWRAP_VERSION.join('.')} or newer (apt-get install bubblewrap; scripts/setup.sh does it).`,
  );
}

export function probeNftables(): FeatureReport {
  const version = run('nft', ['--version']);
  return report(
    'nftables',
    'nftables',
    version !== undefined,
    true,
    version ?? 'nft not found',
    'Install nftables (apt-get install nftables) on a kernel with nf_tables; the sandbox firewall is built with it.',
  );
}

export function probeSeccomp(): FeatureReport {
  const actions = readText('/proc/sys/kernel/seccomp/actions_avail') ?? '';
  const arch = hostSeccompArch();
  const ok = /\berrno\b/.test(actions) && arch !== undefined;
  return report(
    'seccomp',
    'seccomp filters',
    ok,
    true,
    `actions: ${actions || 'none'}; architecture ${arch ?? `${process.arch} (unsupported)`}`,
    'Use a kernel built with CONFIG_SECCOMP_FILTER=y on x86_64 or aarch64.',
  );
}

export function probeLandlock(): FeatureReport {
  let abi = 0;
  let detail: string;
  try {
    abi = Number(run(ensureNativeBinaries().landlockExec, ['--abi']) ?? '0');
    detail = abi > 0 ? `ABI ${abi}` : 'not enabled in this kernel';
  } catch (error) {
    detail = `probe failed: ${(error as Error).message}`;
  }
  return report(
    'landlock',
    'Landlock',
    abi > 0,
    true,
    detail,
    'Use a kernel with CONFIG_SECURITY_LANDLOCK=y and "landlock" in the lsm= boot parameter (ABI 2 or later recommended). A blueprint may waive it with spec.sandbox.allowMissing: [landlock].',
  );
}

export function probeCgroups(): FeatureReport {
  const mounts = readText('/proc/self/mounts') ?? '';
  const v2 = mounts
    .split('\n')
    .find((line) => line.split(' ')[2] === 'cgroup2')
    ?.split(' ')[1];
  const v1 = mounts
    .split('\n')
    .filter((line) => line.split(' ')[2] === 'cgroup')
    .map((line) => line.split(' ')[1]?.split('/').pop());
  const controllers = v2 ? (readText(`${v2}/cgroup.controllers`) ?? '') : '';
  const detail = `v2 ${v2 ? `at ${v2} (controllers: ${controllers || 'none'})` : 'absent'}; v1 ${v1.length ? v1.join(',') : 'absent'}`;
  // Informational: limits are rlimits, which need no cgroup (sandbox-limits.ts).
  return report('cgroups', 'cgroups', true, false, `${detail}; limits use rlimits`, '');
}

export function probeRlimits(): FeatureReport {
  const ok = existsSync('/proc/self/limits');
  return report(
    'rlimits',
    'rlimits (processes, open files, data)',
    ok,
    true,
    ok ? 'RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_DATA' : '/proc/self/limits missing',
    'rlimits are always in Linux; a missing /proc means /proc is not mounted.',
  );
}

export function probeRoot(): FeatureReport {
  const uid = process.getuid?.() ?? -1;
  return report(
    'root',
    'running as root',
    uid === 0,
    true,
    `uid ${uid}`,
    'Run as root (sudo): the launcher creates the network namespace and drops to a dedicated uid.',
  );
}

/** Every probe, in the order doctor prints them. */
export function probeSandboxFeatures(): FeatureReport[] {
  return [
    probeRoot(),
    probeUserNamespaces(),
    probeNetworkNamespaces(),
    probeBubblewrap(),
    probeNftables(),
    probeSeccomp(),
    probeLandlock(),
    probeCgroups(),
    probeRlimits(),
  ];
}

let checked = false;

/** The launcher's pre-flight: the required features that are cheap to probe. Cached per process. */
export function requireSandboxFeatures(): void {
  if (checked) return;
  for (const probe of [probeUserNamespaces, probeBubblewrap, probeSeccomp]) {
    const result = probe();
    if (result.status !== 'ok') {
      throw new PaddockError(
        'PDK_SANDBOX_FEATURE_MISSING',
        `${result.name} missing (${result.detail}); ${result.fix}`,
      );
    }
  }
  checked = true;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
