// Shared by the sandbox network tests: run probes inside a network as an unprivileged uid,
// loopback/host servers that record whether anything arrived, and leftover checks.
// Tests touch only loopback and addresses of namespaces they create (10.231.0.0/16).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ProxyPorts, SandboxNetwork } from '../../src/supervisor/sandbox/network/index.ts';

/** Not the product defaults, so a test never collides with a real supervisor on this host. */
export const TEST_PORTS: ProxyPorts = Object.freeze({
  httpProxy: 24128,
  transparentHttp: 24080,
  transparentHttps: 24443,
  socks: 24180,
});

/** The unprivileged uid the probes run as (nobody): no capability over the namespace. */
export const PROBE_UID = 65534;

/** Slot 0 of the default pool is never assigned: addresses that exist nowhere. */
export const DEAD_ADDRESS = '10.231.0.2';

const NODE = process.execPath;
const PROBE = fileURLToPath(new URL('./fixtures/net-probe.ts', import.meta.url));

/** These tests build namespaces and nftables tables: they need root, and say so instead of skipping. */
export function requireRoot(): void {
  assert.equal(
    process.getuid?.(),
    0,
    'the sandbox network tests must run as root (they create network namespaces); run them as root, as CI does',
  );
}

/** Runs `argv` inside the network's namespace, as `uid` (65534 unless given; 0 keeps root). */
export function runInNetwork(
  network: Pick<SandboxNetwork, 'netnsPath'>,
  argv: readonly string[],
  options: { uid?: number; input?: string; timeoutMs?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const uid = options.uid ?? PROBE_UID;
  const drop =
    uid === 0
      ? []
      : [
          'setpriv',
          `--reuid=${uid}`,
          `--regid=${uid}`,
          '--clear-groups',
          '--no-new-privs',
          '--inh-caps=-all',
        ];
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${network.netnsPath}`, '--', ...drop, ...argv], {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {}); // a command that exits without reading its input
      child.stdin?.end(options.input);
    }
  });
}

/** Runs probes (see fixtures/net-probe.ts) inside the network as an unprivileged uid. */
export async function probe<T = Record<string, unknown>>(
  network: Pick<SandboxNetwork, 'netnsPath'>,
  probes: readonly Record<string, unknown>[],
  uid = PROBE_UID,
): Promise<T[]> {
  const result = await runInNetwork(network, [NODE, PROBE], { uid, input: JSON.stringify(probes) });
  assert.equal(result.code, 0, `probe failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T[];
}

/** A TCP server that records every connection that reaches it. */
export async function recordingServer(
  host: string,
  port = 0,
): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((socket) => {
    hits++;
    socket.on('error', () => {}); // probes reset connections they no longer need
    socket.end('reached\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port, hits: () => hits };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The namespace name and both veth ends are gone. */
export function assertGone(network: SandboxNetwork): void {
  assert.ok(!existsSync(network.netnsPath), `${network.netnsPath} still exists`);
  assert.ok(!existsSync(`/sys/class/net/${network.hostInterface}`), `${network.hostInterface} still exists`);
}
