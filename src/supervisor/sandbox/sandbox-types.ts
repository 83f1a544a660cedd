import type { SANDBOX_WAIVABLE_FEATURES } from '../../config/schema/index.ts';

// Types shared by the sandbox launcher's modules. The launcher takes a SandboxSpec (what to
// run and what it may touch) and turns it into a mount plan, a bubblewrap command line, an
// environment and limits; nothing here does I/O.

/** Filesystem scope, as paths inside the sandbox (DESIGN.md §3, blueprint spec.dataScope). */
export interface DataScope {
  /** Read-only paths. A path that does not exist on the host is skipped. */
  readonly read: readonly string[];
  /** Writable paths (each also readable). Each must exist on the host. */
  readonly write: readonly string[];
  /** Paths hidden even beneath read or write paths. A path that does not exist is skipped. */
  readonly deny: readonly string[];
}

/** Kernel features a blueprint may explicitly run without (spec.sandbox.allowMissing). */
export type OptionalSandboxFeature = (typeof SANDBOX_WAIVABLE_FEATURES)[number];

/** Resource limits, applied as rlimits to every process in the sandbox. */
export interface SandboxLimits {
  /** Most processes (and threads) the sandbox's dedicated host uid may have. Default 512. */
  readonly processes: number;
  /** Most open files per process. Default 4096. */
  readonly openFiles: number;
  /** Most data memory (heap and other private writable mappings) per process, MiB. Default 4096. */
  readonly memoryMiB: number;
}

/** The network namespace the sandbox joins, from the network plumbing (sandbox/network). */
export interface SandboxNetworkAttachment {
  /** Path of the network namespace (e.g. /run/netns/paddock-…) the sandbox enters. */
  readonly netnsPath: string;
  /** Proxy variables for the agent (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, lower-case). */
  readonly env: Readonly<Record<string, string>>;
}

/** Where the sandbox's paths are: sandbox path -> host path. */
export const SANDBOX_PATHS = {
  workspace: '/workspace',
  home: '/home/agent',
  /** The Landlock shim, part of the read-only /etc mirror (etc-mirror.ts). */
  landlockExec: '/etc/paddock/landlock-exec',
  /** The seccomp program again, for the shim to install with logging on (seccomp-denials.ts). */
  seccompProgram: '/etc/paddock/seccomp.bpf',
  /** The supervisor's CA bundle (the proxy's TLS interception CA), bound read-only. */
  caBundle: '/etc/paddock/ca.pem',
  /** The supervisor's policy decision socket (supervisor/pdp), bound read-only. */
  pdpSocket: '/run/paddock/pdp.sock',
} as const;

/** The identity inside the sandbox (its user namespace maps it to the dedicated host uid). */
export const SANDBOX_USER = { name: 'agent', uid: 1000, gid: 1000 } as const;
