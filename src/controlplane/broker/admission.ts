import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type OcsfEvent, type TerminalAccessInput, terminalAccessEvent } from '../../audit/index.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { checkOrigin } from './origin.ts';
import { parseAttachQuery, type TerminalMode } from './protocol.ts';
import type { TerminalSize, TerminalTarget } from './terminal-target.ts';

// The broker's own checks of an attach request, after the server's: the Origin again and the
// query's bounds. A refusal is audited (`terminal.denied`) and answered before any terminal opens.

/** Who attaches where, as every terminal event of the attach names it. */
export type AttachContext = Omit<TerminalAccessInput, 'event' | 'mode'>;

export type Admission =
  | { readonly ok: true; readonly query: TerminalSize & { mode: TerminalMode }; readonly who: AttachContext }
  | { readonly ok: false; readonly status: number; readonly error: PaddockError };

/** Checks Origin and query; a refusal is handed to `audit` first. */
export async function admitAttach(
  request: IncomingMessage,
  principal: Principal,
  target: TerminalTarget,
  allowedOrigins: readonly string[],
  audit: (event: OcsfEvent) => Promise<void>,
): Promise<Admission> {
  const who: AttachContext = {
    workspaceId: target.workspaceId,
    user: { uid: principal.userId, name: principal.displayName, groups: principal.groups },
    sessionId: principal.sessionId,
    source: { ip: request.socket.remoteAddress, port: request.socket.remotePort },
  };
  const denied = async (status: number, error: PaddockError, reasonCode: string): Promise<Admission> => {
    await audit(
      terminalAccessEvent({
        ...who,
        mode: 'shell',
        event: 'terminal.denied',
        reasonCode,
        reason: error.message,
      }),
    );
    return { ok: false, status, error };
  };
  const originProblem = checkOrigin(request.headers.origin, allowedOrigins);
  if (originProblem)
    return denied(403, new PaddockError('PDK_AUTH_ORIGIN', originProblem), 'origin_not_allowed');
  try {
    const query = parseAttachQuery(new URL(request.url ?? '/', 'http://broker.invalid').searchParams);
    return { ok: true, query, who };
  } catch (error) {
    if (!isPaddockError(error)) throw error;
    return denied(400, error, 'bad_request');
  }
}

/** Answers a refused upgrade on the raw socket: the status and `{"error": {code, message}}`. */
export function refuseUpgrade(socket: Duplex, status: number, error: PaddockError): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
