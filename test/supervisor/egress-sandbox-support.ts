import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { createLogger } from '../../src/core/index.ts';
import { compileEgressPolicy, type EgressServiceSpec } from '../../src/policy/index.ts';
import {
  createEgressGateway,
  createEphemeralWorkspaceCa,
  type EgressGateway,
  type SecretStore,
  staticResolver,
} from '../../src/supervisor/egress/index.ts';
import { startSandbox } from '../../src/supervisor/index.ts';
import { createSandboxNetwork, type SandboxNetwork } from '../../src/supervisor/sandbox/network/index.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { UPSTREAM_CA } from './egress-fixtures.ts';

// The egress gateway plugged into a REAL sandbox network (netns, veth, nftables), with
// commands run inside a REAL sandbox (bubblewrap, seccomp, Landlock). Needs root, like the
// sandbox; a host that cannot run one fails here with the launcher's error, never a skip.

/** The never-assigned address of the sandbox pool (slot 0): a dead destination for DNAT tests. */
export const DEAD_ADDRESS = '10.231.0.2';

export interface SandboxedGateway {
  readonly gateway: EgressGateway;
  readonly network: SandboxNetwork;
  readonly events: OcsfEvent[];
  readonly logs: string[];
  /** Runs a shell script inside a sandbox on the network; stdout and stderr together. */
  run(script: string, timeoutMs?: number): Promise<{ code: number; output: string }>;
  close(): Promise<void>;
}

export async function startSandboxedGateway(options: {
  services: readonly EgressServiceSpec[];
  names: Record<string, readonly string[]>;
  secrets?: SecretStore;
}): Promise<SandboxedGateway> {
  const events: OcsfEvent[] = [];
  const logs: string[] = [];
  const ca = createEphemeralWorkspaceCa({ commonName: 'egress-sandbox-test' });
  const gateway = createEgressGateway({
    policy: compileEgressPolicy(options.services),
    ca,
    onEvent: (event) => events.push(event),
    context: () => ({
      workspaceId: 'ws-sandbox',
      sessionId: 'session-sandbox',
      bundle: { id: 'bundle-sandbox', version: '3' },
    }),
    resolver: staticResolver(options.names),
    upstreamTls: { ca: UPSTREAM_CA.certPem },
    secrets: options.secrets,
    logger: createLogger('egress', { level: 'debug', write: (line) => logs.push(line) }),
  });
  const network = await createSandboxNetwork();
  await gateway.listen(network);
  // The CA bundle is bind-mounted by bubblewrap: the directory must be traversable.
  const caDir = mkdtempSync(join(tmpdir(), 'pdk-egress-ca-'));
  chmodSync(caDir, 0o755);
  writeFileSync(join(caDir, 'ca.pem'), gateway.caCertPem, { mode: 0o644 });
  const nodeHome = dirname(dirname(process.execPath));

  return {
    gateway,
    network,
    events,
    logs,
    async run(script, timeoutMs = 60_000) {
      const workspace = makeWorkspace('pdk-egress-ws-');
      try {
        const sandbox = await startSandbox({
          command: ['/bin/sh', '-c', script],
          workdir: workspace.dir,
          dataScope: { read: [nodeHome], write: ['/workspace'], deny: [] },
          network: { netnsPath: network.netnsPath, env: network.env },
          caBundle: join(caDir, 'ca.pem'),
          hostEnv: {},
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let output = '';
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stdin?.end();
        const timer = setTimeout(() => sandbox.kill('SIGKILL'), timeoutMs);
        const exit = await sandbox.exited;
        clearTimeout(timer);
        if (!exit.started) throw exit.error ?? new Error('sandbox did not start');
        return { code: exit.exitCode, output };
      } finally {
        workspace.remove();
      }
    },
    async close() {
      await gateway.close();
      await network.close();
      rmSync(caDir, { recursive: true, force: true });
    },
  };
}

/** Splits the output of a script that prints `=== NAME` before each step. */
export function sections(output: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of output.split(/^=== /m).slice(1)) {
    const newline = part.indexOf('\n');
    result[part.slice(0, newline).trim()] = part.slice(newline + 1);
  }
  return result;
}
