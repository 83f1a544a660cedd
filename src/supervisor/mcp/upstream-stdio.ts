import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OcsfEvent } from '../../audit/index.ts';
import { type Logger, PaddockError } from '../../core/index.ts';
import { compileEgressPolicy } from '../../policy/index.ts';
import {
  createEgressGateway,
  type EgressEventContext,
  type EgressGateway,
  type Resolver,
  type SecretStore,
  type UpstreamTlsOptions,
  type WorkspaceCa,
} from '../egress/index.ts';
import { type RunningSandbox, startSandbox } from '../sandbox/index.ts';
import { createSandboxNetwork, type SandboxNetwork } from '../sandbox/network/index.ts';
import { StreamTransport } from './stream-transport.ts';
import type { McpServerPlan } from './types.ts';

// A stdio MCP server runs in its own sandbox, never beside the supervisor: it is third-party
// code that holds (placeholders for) credentials. It gets a private, empty /workspace, the
// system view, the paths its service lists in `read`, and a network of its own whose egress
// gateway lets it reach only its service's hosts, injecting the credential there. Without
// hosts it gets no network at all. Its stdin and stdout carry MCP; stderr goes to the log.

/** Starts one stdio server and returns the transport to it; closing the transport stops it. */
export type StdioLauncher = (server: McpServerPlan) => Promise<Transport>;

export interface SandboxedStdioOptions {
  /**
   * Host directory under which each server gets a private, empty /workspace (and its CA bundle).
   * Created if missing and set to 0755: the sandbox's bubblewrap, running unprivileged, must
   * traverse it. Give it a directory of its own.
   */
  readonly workRoot: string;
  /** The workspace CA its egress gateway terminates TLS with. */
  readonly ca: WorkspaceCa;
  /** Secrets its egress gateway injects. */
  readonly secrets?: SecretStore;
  /** Receives the egress events of the servers' sandboxes. */
  readonly onEvent: (event: OcsfEvent) => void;
  /** Context of those events (the session is the gateway's, the server is named in each event). */
  readonly context: () => EgressEventContext;
  readonly resolver?: Resolver;
  readonly upstreamTls?: UpstreamTlsOptions;
  /** Root-owned state directory of the launcher. Default /run/paddock. */
  readonly stateDir?: string;
  /** Receives the servers' stderr lines (truncated). */
  readonly logger?: Logger;
}

/** Longest stderr line kept in the log. */
const MAX_STDERR_LINE = 2000;

/**
 * The production launcher: each server in a sandbox with its own network and egress gateway.
 * Needs root, like every sandbox.
 * @example const launchStdio = sandboxedStdioLauncher({ workRoot: '/var/lib/paddock/mcp', ca, secrets,
 *   onEvent: spool.append, context: () => ({ workspaceId, sessionId, bundle }) });
 */
export function sandboxedStdioLauncher(options: SandboxedStdioOptions): StdioLauncher {
  mkdirSync(options.workRoot, { recursive: true, mode: 0o755 });
  chmodSync(options.workRoot, 0o755);
  return async (server) => {
    const connection = server.connection;
    if (connection.transport !== 'stdio') throw new Error(`${server.name} is not a stdio server`);
    const workdir = mkdtempSync(join(options.workRoot, `${server.name}-`));
    chmodSync(workdir, 0o755);
    let network: SandboxNetwork | undefined;
    let gateway: EgressGateway | undefined;
    let sandbox: RunningSandbox | undefined;
    let cleaned: Promise<void> | undefined;
    const cleanup = () => {
      cleaned ??= stop();
      return cleaned;
    };
    const stop = async () => {
      sandbox?.kill('SIGKILL');
      if (sandbox) await sandbox.exited;
      await gateway?.close().catch(() => {});
      await network?.close().catch(() => {});
      rmSync(workdir, { recursive: true, force: true });
    };
    try {
      let caBundle: string | undefined;
      const env: Record<string, string> = { ...connection.env };
      if (server.egress) {
        const egress = server.egress;
        gateway = createEgressGateway({
          policy: compileEgressPolicy([
            {
              name: server.name,
              hosts: egress.hosts,
              ...(egress.ports ? { ports: egress.ports } : {}),
              ...(egress.access ? { access: egress.access } : {}),
              ...(egress.rules ? { rules: egress.rules } : {}),
              ...(egress.cidrs ? { cidrs: egress.cidrs } : {}),
              ...(server.credential ? { credential: server.credential } : {}),
              ...(server.credentialHeader ? { credentialHeader: server.credentialHeader } : {}),
            },
          ]),
          ca: options.ca,
          onEvent: options.onEvent,
          context: options.context,
          secrets: options.secrets,
          resolver: options.resolver,
          upstreamTls: options.upstreamTls,
        });
        network = await createSandboxNetwork();
        await gateway.listen(network);
        caBundle = join(workdir, '.paddock-ca.pem');
        writeFileSync(caBundle, gateway.caCertPem, { mode: 0o644 });
        const placeholders = gateway.credentialEnv();
        Object.assign(env, placeholders);
        const placeholder = Object.values(placeholders)[0];
        if (connection.credentialEnv && placeholder) env[connection.credentialEnv] = placeholder;
      }
      // The launcher passes through only terminal and locale variables, so the server's own
      // environment is set by env(1), which then executes the server in place.
      const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
      const command =
        assignments.length > 0
          ? ['/usr/bin/env', ...assignments, ...connection.command]
          : [...connection.command];
      sandbox = await startSandbox({
        command,
        workdir,
        dataScope: { read: [...(connection.read ?? [])], write: [], deny: [] },
        network: network ? { netnsPath: network.netnsPath, env: network.env } : undefined,
        caBundle,
        hostEnv: {},
        stdio: ['pipe', 'pipe', 'pipe'],
        stateDir: options.stateDir,
      });
      const running = sandbox;
      forwardStderr(running.child.stderr, server.name, options.logger);
      const transport = new StreamTransport(
        running.child.stdout as Readable,
        running.child.stdin as Writable,
        () => void cleanup(),
      );
      running.exited.then(() => transport.close());
      return transport;
    } catch (error) {
      await cleanup();
      throw new PaddockError(
        'PDK_MCP_UPSTREAM',
        `MCP server "${server.name}" could not be started in a sandbox`,
        {
          cause: error,
        },
      );
    }
  };
}

function forwardStderr(stream: Readable | null, server: string, logger: Logger | undefined): void {
  if (!stream) return;
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = (lines.pop() ?? '').slice(-MAX_STDERR_LINE);
    for (const line of lines) {
      if (line.trim()) logger?.debug({ server, line: line.slice(0, MAX_STDERR_LINE) }, 'mcp server stderr');
    }
  });
}
