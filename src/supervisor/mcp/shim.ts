import { connect } from 'node:net';

// `paddock mcp-shim`: what an agent inside the sandbox configures as its one stdio MCP server.
// It understands nothing of MCP: it relays bytes between its stdin/stdout and the gateway's unix
// socket (mounted into the sandbox), so there is nothing in it to configure, bypass or keep in
// step with the protocol. Every check happens on the supervisor's side of the socket.

/** Where the gateway's socket appears inside a sandbox. */
export const MCP_SHIM_SOCKET = '/run/paddock/mcp.sock';

export interface ShimStreams {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Relays until either side ends. Resolves 0 when the agent closed its stdin and the gateway
 * finished, 1 when the socket cannot be reached or breaks (a message on stderr says which).
 * @example process.exitCode = await runMcpShim('/run/paddock/mcp.sock', process);
 */
export function runMcpShim(socketPath: string, streams: ShimStreams): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let connected = false;
    let inputEnded = false;
    let settled = false;
    const finish = (code: number, message?: string) => {
      if (settled) return;
      settled = true;
      if (message) streams.stderr.write(`error PDK_MCP_SHIM: ${message}\n`);
      streams.stdin.unpipe(socket);
      resolve(code);
    };
    socket.once('connect', () => {
      connected = true;
      streams.stdin.pipe(socket);
      socket.pipe(streams.stdout, { end: false });
    });
    streams.stdin.once('end', () => {
      inputEnded = true;
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const what = connected
        ? 'the connection to the MCP gateway broke'
        : `no MCP gateway answers at ${socketPath}`;
      finish(
        1,
        `${what} (${error.code ?? error.message}); run the shim inside a Paddock sandbox whose supervisor serves MCP, or set PADDOCK_MCP_SOCKET`,
      );
    });
    socket.once('close', () => {
      if (inputEnded) finish(0);
      else finish(1, 'the MCP gateway closed the connection');
    });
  });
}
