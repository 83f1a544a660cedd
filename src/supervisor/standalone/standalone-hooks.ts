import { chmodSync, chownSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OcsfEvent } from '../../audit/index.ts';
import { createLogger, ENV, type LogLevel } from '../../core/index.ts';
import {
  createPdpClient,
  ensureHookClient,
  HARNESSES,
  type Harness,
  HOOK_SOCKET_PATH,
  type HookServer,
  type LocalAuditContext,
  type LocalRedact,
  localDecisionEvent,
  type McpShimCommand,
  startHookServer,
  writeManagedSettings,
} from '../hooks/index.ts';
import type { ReadOnlyBind } from '../sandbox/index.ts';

// Harness hooks for one standalone run (docs/hooks.md): the hook server on a socket in the run
// directory, asking the run's PDP socket (so every hook decision is decided for the run's
// session and audited by the PDP server, and those it makes itself are audited here); the native client and the harnesses' managed
// settings, bound read-only where the harnesses look for them.

// The sandboxed command's stderr is the caller's terminal: the hook server's routine lines
// (listening, local decisions) show only when PADDOCK_LOG asks for them.
const log = createLogger('hooks', { level: (process.env[ENV.logLevel] as LogLevel | undefined) ?? 'warn' });

/** Where the native hook client appears inside the sandbox (an `/etc/paddock-*` path). */
export const HOOK_CLIENT_SANDBOX_PATH = '/etc/paddock-hook';

export interface StandaloneHooks {
  /** The read-only binds the launcher makes: client, managed settings, hook socket. */
  readonly binds: readonly ReadOnlyBind[];
  /** Hands the socket to the sandbox's uid (0600); until then only root may connect. */
  ownBy(uid: number): void;
  close(): Promise<void>;
}

/**
 * Builds the native client (first use), writes the managed settings of `harnesses` into the run
 * directory (with the MCP shim as their one MCP server when `mcp` is given) and starts the hook
 * server there. Throws PaddockError (PDK_HOOK_*) when the client
 * cannot be built or the settings written.
 */
export interface StandaloneHooksOptions {
  readonly runDir: string;
  /** The run's PDP socket (host path): the hook server asks it. */
  readonly pdpSocket: string;
  /** Default all (`claude-code`, `codex`, `gemini`). */
  readonly harnesses?: readonly Harness[];
  /** The MCP shim to name as each harness's one MCP server. Default none. */
  readonly mcp?: McpShimCommand;
  /** Appends one event to the run's audit (every decision the hook server makes itself). */
  readonly emit: (event: OcsfEvent) => void;
  readonly context: LocalAuditContext;
  /** The blueprint's redaction, for recorded argv and URLs. */
  readonly redact?: LocalRedact;
}

export async function startStandaloneHooks(options: StandaloneHooksOptions): Promise<StandaloneHooks> {
  const { runDir, pdpSocket, mcp } = options;
  const harnesses = options.harnesses ?? HARNESSES;
  // A copy in the run directory (root-owned, 0755 path): the build directory may sit beneath
  // a home the sandbox's uid cannot traverse, and the copy cannot change under a running hook.
  const client = join(runDir, 'paddock-hook');
  copyFileSync(ensureHookClient(), client);
  chmodSync(client, 0o555);
  const mounts = await writeManagedSettings(join(runDir, 'hooks'), harnesses, {
    clientPath: HOOK_CLIENT_SANDBOX_PATH,
    ...(mcp ? { mcp } : {}),
  });
  const socketPath = join(runDir, 'hook.sock');
  const pdp = createPdpClient({ socketPath: pdpSocket });
  let server: HookServer;
  try {
    server = await startHookServer({
      socketPath,
      decide: pdp.decide,
      logger: log,
      // Decisions made without the PDP (malformed input, inert tools, unverifiable commands, a
      // PDP that did not answer) are audited here; the PDP server audits its own answers.
      onLocalDecision: (decision) => {
        log.info(
          {
            harness: decision.harness,
            tool: decision.toolName,
            outcome: decision.outcome,
            reason: decision.reason,
          },
          'hook decided locally',
        );
        options.emit(localDecisionEvent(decision, options.context, options.redact));
      },
    });
  } catch (error) {
    pdp.close();
    throw error;
  }
  return {
    binds: [
      { host: client, dest: HOOK_CLIENT_SANDBOX_PATH },
      ...mounts.map((mount) => ({ host: mount.host, dest: mount.sandbox })),
      { host: socketPath, dest: HOOK_SOCKET_PATH },
    ],
    ownBy(uid) {
      chownSync(socketPath, uid, uid);
    },
    async close() {
      await server.close().catch(() => {});
      pdp.close();
    },
  };
}
