// Starts the peers the proxy benchmark compares against: squid and tinyproxy (Debian packages,
// bench-only: `apt-get install squid tinyproxy wrk`), each in the foreground with a
// throwaway configuration that allows everything on loopback, caches nothing and logs
// nothing, so they do the same job as the gateway's L4 and plain-HTTP paths.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Peer {
  readonly name: string;
  readonly port: number;
  stop(): void;
}

/** A free loopback port (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not listen on ${port}`);
}

/** Whether a program is installed; the benchmark names the package to install when it is not. */
export function have(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startSquid(): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-bench-squid-'));
  chmodSync(dir, 0o777); // squid drops to the `proxy` user
  const port = await freePort();
  const config = [
    `http_port 127.0.0.1:${port}`,
    'http_access allow all',
    'cache deny all',
    'cache_mem 8 MB',
    'access_log none',
    `cache_log ${join(dir, 'cache.log')}`,
    `pid_filename ${join(dir, 'squid.pid')}`,
    `coredump_dir ${dir}`,
    'via off',
    'forwarded_for delete',
    'shutdown_lifetime 0 seconds',
    'client_persistent_connections on',
    'server_persistent_connections on',
  ];
  writeFileSync(join(dir, 'squid.conf'), `${config.join('\n')}\n`);
  const child = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: 'ignore' });
  await waitForPort(port, child, 'squid');
  return { name: 'squid', port, stop: () => child.kill('SIGKILL') };
}

export async function startTinyproxy(): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-bench-tinyproxy-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 600',
    'MaxClients 1024',
    'LogLevel Critical',
    `LogFile "${join(dir, 'tinyproxy.log')}"`,
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    'DisableViaHeader Yes',
    'User nobody',
    'Group nogroup',
  ];
  writeFileSync(join(dir, 'tinyproxy.conf'), `${config.join('\n')}\n`);
  const child = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  await waitForPort(port, child, 'tinyproxy');
  return { name: 'tinyproxy', port, stop: () => child.kill('SIGKILL') };
}
