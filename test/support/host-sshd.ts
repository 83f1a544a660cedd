import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Test support for the host-terminal path (config.hostSsh, the path Windows guests take):
// Debian's OpenSSH server run as a host service would be, with a configuration shaped like the
// one a Windows guest's sshd_config has (loopback only, public keys only, no forwarding, the
// supervisor's AuthorizedKeysFile, StrictModes), on a free port. Runs as root: the one local
// account the terminals log in as is root here (PermitRootLogin prohibit-password).

export const SSHD = '/usr/sbin/sshd';

/** A directory sshd's StrictModes accepts (every parent root's, none group or world writable). */
export function strictDir(prefix: string): string {
  return mkdtempSync(join(homedir(), `.${prefix}`));
}

export function keyPair(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something accepts connections on 127.0.0.1:port (it cannot be bound). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer().listen(port, '127.0.0.1');
    probe.once('listening', () => probe.close(() => resolve(false)));
    probe.once('error', () => resolve(true));
  });
}

export interface HostSshd {
  readonly port: number;
  /** The server's host public key file (`.pub`). */
  readonly hostKeyFile: string;
  /** What sshd logged (-e). */
  log(): string;
  stop(): Promise<void>;
}

/** Resolves once something on `port` speaks SSH. */
async function banner(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('data', (chunk: Buffer) => {
        socket.destroy();
        resolve(chunk.toString().startsWith('SSH-2.0-'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no SSH server on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `sshd -D -e` in `dir` (its host key made there) reading keys from `authorizedKeysFiles`. */
export async function startHostSshd(dir: string, authorizedKeysFiles: readonly string[]): Promise<HostSshd> {
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', hostKey]);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeysFiles.join(' ')}`,
      'StrictModes yes',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostbasedAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'PidFile none',
      'PermitUserEnvironment no',
      'AllowTcpForwarding no',
      'AllowStreamLocalForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTunnel no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (log.length < 200_000) log += chunk.toString();
  });
  const exited = once(child, 'exit');
  try {
    await banner(port, 10_000);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`${(error as Error).message}: ${log}`);
  }
  return {
    port,
    hostKeyFile: `${hostKey}.pub`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
