import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createLogger, type Logger } from '../../core/log.ts';
import { SANDBOX_PATHS } from '../sandbox/sandbox-types.ts';
import { MAX_HOOK_INPUT_BYTES } from './constants.ts';
import { encodeReply, MAX_HEADER_BYTES, parseRequest } from './framing.ts';
import { blockAnswer, handleHookInput } from './handle.ts';
import type { DecideFn, HookAnswer, LocalDecision } from './types.ts';

// The supervisor side of the hooks: a unix socket, bound into the sandbox, where the hook client
// forwards the harness's stdin; one request per connection, framed as framing.ts describes.
// Parsing and shell analysis run here, outside the agent's reach, so the client stays a relay
// that starts fast; every answer the server sends is already in the harness's own format.

export interface HookServerOptions {
  /** Socket path on the host; the launcher binds it at HOOK_SOCKET_PATH inside the sandbox. */
  readonly socketPath: string;
  /** The decision point (in-process, or a client of its socket). */
  readonly decide: DecideFn;
  /** The sandbox's HOME for `~`. Default SANDBOX_PATHS.home. */
  readonly home?: string;
  /** Wait for decisions at most this long per call. Default 1500 ms (the client gives up at 2000). */
  readonly decisionTimeoutMs?: number;
  /** What unverifiable shell commands get: `deny` (default) or `ask` where the harness can ask. */
  readonly onUnverifiable?: 'deny' | 'ask';
  /** Whether shell words only known at run time may reach the decision point (default) or fail closed. */
  readonly dynamicArguments?: 'allow' | 'deny';
  /** Socket file mode. Default 0o600: with `owner` set to the sandbox's host uid, only it (and root) connects. */
  readonly mode?: number;
  /** Owner of the socket file, normally the sandbox's dedicated host uid and gid. Default: unchanged. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Most simultaneous connections. Default 64 (a harness runs a few hooks at once). */
  readonly maxConnections?: number;
  /** Connections idle longer than this are closed. Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Receives every decision the hook server makes without the PDP (malformed input, unknown and
   * inert tools, unverifiable commands, an unreachable PDP), so the supervisor can audit them;
   * the PDP audits its own answers. A throwing callback is logged; the answer stands.
   */
  readonly onLocalDecision?: (decision: LocalDecision) => void;
  readonly logger?: Logger;
}

export interface HookServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

function reply(socket: Socket, answer: HookAnswer): void {
  socket.end(encodeReply(answer));
}

/**
 * Starts the hook server. A stale socket file at `socketPath` is replaced.
 * @example const server = await startHookServer({ socketPath: '/run/paddock/s1/hook.sock', decide })
 */
export async function startHookServer(options: HookServerOptions): Promise<HookServer> {
  const log = options.logger ?? createLogger('hooks');
  const evaluate = {
    home: options.home ?? SANDBOX_PATHS.home,
    decisionTimeoutMs: options.decisionTimeoutMs ?? 1500,
    onUnverifiable: options.onUnverifiable ?? 'deny',
    dynamicArguments: options.dynamicArguments ?? 'allow',
  };
  const limit = MAX_HOOK_INPUT_BYTES + MAX_HEADER_BYTES + 1;
  const open = new Set<Socket>();
  const report = (decision: LocalDecision) => {
    try {
      options.onLocalDecision?.(decision);
    } catch (error) {
      log.error({ error: (error as Error).message, reason: decision.reason }, 'hook decision not recorded');
    }
  };
  /** A refusal before any harness input was read: reported like every local decision. */
  const refuseUnread = (socket: Socket, reason: 'input_invalid' | 'hook_failed', message: string) => {
    reply(socket, blockAnswer(message));
    report({
      harness: null,
      eventName: null,
      toolName: null,
      sessionId: null,
      call: null,
      cwd: null,
      outcome: 'deny',
      reason,
      message,
    });
  };
  const answer = (socket: Socket, bytes: Buffer) => {
    const request = parseRequest(bytes);
    if ('error' in request) {
      log.info({ error: request.error }, 'malformed hook request');
      refuseUnread(socket, 'input_invalid', `Paddock denied this call: ${request.error} (PDK_HOOK_INPUT).`);
      return;
    }
    handleHookInput(request.harness, request.input, options.decide, evaluate).then(
      ({ answer: result, local }) => {
        log.debug({ harness: request.harness, exitCode: result.exitCode }, 'hook answered');
        reply(socket, result);
        if (local) report(local);
      },
      (error: unknown) => {
        log.error({ error: (error as Error).message }, 'hook handling failed');
        refuseUnread(
          socket,
          'hook_failed',
          'Paddock denied this call: the hook server failed (PDK_INTERNAL).',
        );
      },
    );
  };
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    socket.setTimeout(options.idleTimeoutMs ?? 5000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      done = true;
      log.info({ bytes: size }, 'hook request too large');
      refuseUnread(
        socket,
        'input_invalid',
        'Paddock denied this call: the hook input is too large to check (PDK_HOOK_INPUT).',
      );
    });
    // The client half-closes after its request: the end of the stream is the end of the input.
    socket.on('end', () => {
      if (done) return;
      done = true;
      answer(socket, Buffer.concat(chunks));
    });
  });
  server.maxConnections = options.maxConnections ?? 64;
  mkdirSync(dirname(options.socketPath), { recursive: true, mode: 0o755 });
  try {
    if (lstatSync(options.socketPath).isSocket()) rmSync(options.socketPath);
  } catch {
    // no stale socket
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(options.socketPath, options.mode ?? 0o600);
  if (options.owner) chownSync(options.socketPath, options.owner.uid, options.owner.gid);
  log.info({ socket: options.socketPath }, 'hook server listening');
  return {
    socketPath: options.socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(options.socketPath, { force: true });
          resolve();
        });
        for (const socket of open) socket.destroy();
      }),
  };
}
