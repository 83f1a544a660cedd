import type { IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import { WebSocket } from 'ws';
import { parseServerControl } from '../../controlplane/broker/protocol.ts';
import { type ErrorCode, ERRORS, PaddockError } from '../../core/errors.ts';
import type { Command } from '../command.ts';
import { resolveClientSession } from '../saved-session.ts';

const HELP = `Attaches this terminal to a shell in your workspace, through the control plane's
access broker: raw keystrokes go to the workspace, its output comes back, window resizes
follow, and the command exits with the remote shell's exit status. The session is recorded
by the broker (docs/broker.md). Uses the session \`paddock login\` saved
($XDG_CONFIG_HOME/paddock/session.json); PADDOCK_SERVER and PADDOCK_TOKEN override it.

WORKSPACE is a workspace id; without it, your only workspace is used.

--stdio relays stdin and stdout unchanged (no terminal handling) to an SSH server in the
workspace, for an SSH client's ProxyCommand:
  ssh -o ProxyCommand='paddock connect --stdio %h' agent@WORKSPACE
The workspace's sshd accepts the public keys in ~/.ssh/authorized_keys of the workspace's
home (add yours from a terminal there); pin its host key first: GET
/api/workspaces/WORKSPACE/ssh-host-key gives the line for ~/.ssh/known_hosts.

Exit codes: the remote shell's status; 255 when the connection closed before the shell
exited (as ssh does: session revoked or expired, workspace stopped); 1 when the control plane
refused the terminal or could not be reached; 2 usage error.

Options:
      --server URL   the control plane (default: $PADDOCK_SERVER, else the one \`paddock login\` saved)
      --stdio        relay stdin/stdout as an SSH stream (ProxyCommand mode)
`;

/** Exit status when the connection, not the shell, ended the command (ssh's convention). */
const CONNECTION_LOST = 255;

/** ws:// or wss:// URL of a workspace's terminal route. */
function terminalUrl(server: string, workspaceId: string, query: string): string {
  const url = new URL(server);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PaddockError('PDK_CLI_USAGE', `--server must be an http(s) URL, got ${server}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/$/, '')}/api/workspaces/${encodeURIComponent(workspaceId)}/terminal`;
  url.search = query;
  return url.href;
}

/** The error the server sent with a refused upgrade, as a PaddockError. */
async function refusal(response: IncomingMessage): Promise<PaddockError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).byteLength;
    if (size > 16_384) break;
    chunks.push(chunk as Buffer);
  }
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      error?: { code?: string; message?: string };
    };
    code = body.error?.code;
    message = body.error?.message;
  } catch {
    // not JSON: the status says enough
  }
  if (code && code in ERRORS) return new PaddockError(code as ErrorCode, message);
  const byStatus: Partial<Record<number, ErrorCode>> = {
    401: 'PDK_AUTH_REQUIRED',
    403: 'PDK_AUTH_FORBIDDEN',
    404: 'PDK_WORKSPACE_NOT_FOUND',
    503: 'PDK_CHANNEL_NOT_CONNECTED',
  };
  const known = byStatus[response.statusCode ?? 0];
  return known
    ? new PaddockError(known, message)
    : new PaddockError(
        'PDK_CONNECT_REFUSED',
        `the control plane answered HTTP ${response.statusCode}${message ? `: ${message}` : ''}`,
      );
}

/** Your only workspace, from GET /api/workspaces; a usage error when there are none or several. */
async function onlyWorkspace(server: string, token: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/workspaces', server), {
      headers: { authorization: `Bearer ${token}` },
    });
  } catch (error) {
    throw new PaddockError('PDK_AUTH_SERVER_UNREACHABLE', undefined, { cause: error });
  }
  if (!response.ok)
    throw new PaddockError('PDK_CONNECT_REFUSED', `GET /api/workspaces answered HTTP ${response.status}`);
  const body = (await response.json()) as unknown;
  const list = (Array.isArray(body) ? body : (body as { workspaces?: unknown[] })?.workspaces) ?? [];
  const ids = list
    .map((w) => (w as { id?: unknown }).id)
    .filter((id): id is string => typeof id === 'string');
  if (ids.length !== 1) {
    throw new PaddockError(
      'PDK_CLI_USAGE',
      ids.length === 0 ? 'you have no workspace' : `you have several workspaces, name one: ${ids.join(', ')}`,
    );
  }
  return ids[0] as string;
}

/** Opens the socket; rejects with the server's refusal. */
function open(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    let refused = false;
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => {
      refused = true;
      refusal(response)
        .then(reject, reject)
        .finally(() => ws.terminate());
    });
    ws.on('error', (error) => {
      if (!refused) reject(new PaddockError('PDK_AUTH_SERVER_UNREACHABLE', error.message, { cause: error }));
    });
  });
}

/** Interactive mode: this tty in raw mode, resizes forwarded; resolves with the exit status. */
function relayTerminal(ws: WebSocket, stderr: NodeJS.WritableStream): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  let status: number | undefined;
  let closedReason: string | undefined;
  const onInput = (data: Buffer) => ws.send(data, { binary: true });
  const onResize = () => ws.send(JSON.stringify({ type: 'resize', cols: stdout.columns, rows: stdout.rows }));
  stdin.on('data', onInput);
  if (stdout.isTTY) stdout.on('resize', onResize);
  ws.on('message', (data, isBinary) => {
    const bytes = data as Buffer;
    if (isBinary) {
      stdout.write(bytes);
      return;
    }
    const control = parseServerControl(bytes.toString('utf8'));
    if (control?.type === 'exit') {
      status =
        control.exitCode ??
        128 + ((control.signal && constants.signals[control.signal as NodeJS.Signals]) || 0);
    } else if (control?.type === 'closed') closedReason = control.reason;
  });
  return new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      stdin.off('data', onInput);
      stdout.off('resize', onResize);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (status === undefined)
        stderr.write(
          `\r\npaddock: connection closed: ${closedReason ?? (reason.toString() || `code ${code}`)}\r\n`,
        );
      resolve(status ?? CONNECTION_LOST);
    });
  });
}

/** ProxyCommand mode: bytes both ways unchanged; ends when either side does. */
function relayStdio(ws: WebSocket): Promise<number> {
  const onInput = (data: Buffer) => ws.send(data, { binary: true });
  process.stdin.on('data', onInput);
  process.stdin.once('end', () => ws.close(1000, 'client closed'));
  ws.on('message', (data, isBinary) => {
    if (isBinary) process.stdout.write(data as Buffer);
  });
  return new Promise((resolve) => {
    ws.on('close', () => {
      process.stdin.off('data', onInput);
      process.stdin.pause();
      resolve(0);
    });
  });
}

/** `paddock connect`: a terminal (or an SSH stream) into your workspace through the broker. */
export const connectCommand: Command = {
  name: 'connect',
  summary: 'attach this terminal to a shell in your workspace (or relay SSH with --stdio)',
  usage: '[--server URL] [--stdio] [WORKSPACE]',
  help: HELP,
  options: { server: { type: 'string' }, stdio: { type: 'boolean' } },
  async run(ctx) {
    if (ctx.positionals.length > 1)
      throw new PaddockError('PDK_CLI_USAGE', 'connect takes at most one WORKSPACE');
    const { server, token } = resolveClientSession(ctx.env, ctx.values['server'] as string | undefined);
    const stdio = ctx.values['stdio'] === true;
    const workspaceId = ctx.positionals[0] ?? (await onlyWorkspace(server, token));
    const cols = process.stdout.isTTY ? process.stdout.columns : 80;
    const rows = process.stdout.isTTY ? process.stdout.rows : 24;
    const query = stdio ? 'mode=ssh' : `cols=${cols}&rows=${rows}`;
    const ws = await open(terminalUrl(server, workspaceId, query), token);
    return stdio ? relayStdio(ws) : relayTerminal(ws, ctx.stderr);
  },
};
