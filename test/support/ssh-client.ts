import { spawn } from 'node:child_process';

// Test support: OpenSSH's client (`ssh`), run to its end with its output collected, and the
// options every test's client shares: no config file, only the given key, no prompts, the
// server's host key pinned in a known_hosts file of the test's own.

export interface SshResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `-F none`, the identity and nothing else, batch mode, strict checking against `knownHosts` only. */
export function pinnedSshOptions(identity: string, knownHosts: string): string[] {
  return [
    '-F',
    'none',
    '-i',
    identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=none',
    '-o',
    'StrictHostKeyChecking=yes',
  ];
}

/** The ProxyCommand that reaches a workspace through the broker (`paddock connect --stdio %h`). */
export function brokerProxyOption(paddock: string): string[] {
  return ['-o', `ProxyCommand=${process.execPath} ${paddock} connect --stdio %h`];
}

/** Runs `ssh ARGS` with `env` (stdin closed) and resolves with its exit code and output. */
export function runSsh(args: readonly string[], env: NodeJS.ProcessEnv, client = 'ssh'): Promise<SshResult> {
  const child = spawn(client, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}
