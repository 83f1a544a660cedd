import { createLogger } from '../../../core/log.ts';
import {
  denialBody,
  type EgressDecider,
  type EgressDenial,
  type EgressDenialHandler,
  type EgressDenyReason,
  type EgressRequest,
  type EgressVerdict,
  echoableHost,
  PADDOCK_ERROR_HEADER,
} from './egress-listener.ts';

// How a listener turns a request into a refusal: ask the decider (a failure is a deny), report
// the denial once, and render it for the protocol the client spoke.

const log = createLogger('egress-listener');

export type Refuser = (
  request: EgressRequest,
  forced?: { reason: EgressDenyReason; detail: string },
) => Promise<EgressDenial>;

/**
 * Builds the refuse step of a deny-only listener. `forced` skips the decider for requests that
 * are refused before any destination is known (not TLS, no SNI, an unsupported SOCKS command).
 */
export function createRefuser(decide: EgressDecider, onDenied: EgressDenialHandler | undefined): Refuser {
  return async (request, forced) => {
    const named = { ...request, host: echoableHost(request.host) };
    let verdict: EgressVerdict;
    if (forced) {
      verdict = { allow: false, rule: 'default-deny', ...forced };
    } else {
      try {
        verdict = await decide(named);
      } catch (error) {
        log.error(
          { sandbox: request.sandboxId, error: (error as Error).message },
          'egress decision failed, denying',
        );
        verdict = {
          allow: false,
          reason: 'decision_failed',
          rule: 'default-deny',
          detail: 'the egress decision failed',
        };
      }
    }
    const denial: EgressDenial = verdict.allow
      ? {
          ...named,
          reason: 'gateway_unavailable',
          rule: verdict.rule,
          detail: 'the policy allows this destination, but no egress gateway is running to carry it',
          time: Date.now(),
        }
      : { ...named, reason: verdict.reason, rule: verdict.rule, detail: verdict.detail, time: Date.now() };
    try {
      onDenied?.(denial);
    } catch (error) {
      log.error(
        { sandbox: request.sandboxId, error: (error as Error).message },
        'egress denial handler threw',
      );
    }
    // The audit event is the record; this line is for debugging a client's failures.
    log.debug(
      {
        sandbox: request.sandboxId,
        host: denial.host,
        port: denial.port,
        via: denial.via,
        reason: denial.reason,
      },
      'egress denied',
    );
    return denial;
  };
}

/** Headers of every HTTP refusal; `x-paddock-reason` carries the machine-readable reason. */
export function denialHeaders(denial: EgressDenial, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
    [PADDOCK_ERROR_HEADER]: 'PDK_EGRESS_DENIED',
    'x-paddock-reason': denial.reason,
  };
}

/** A complete `403 Forbidden` HTTP/1.1 response, for sockets no longer owned by the HTTP parser (CONNECT, upgrade). */
export function rawDenialResponse(denial: EgressDenial): string {
  const body = JSON.stringify(denialBody(denial));
  const headers = Object.entries(denialHeaders(denial, body))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 403 Forbidden\r\n${headers}\r\n${body}`;
}

/** A fatal TLS alert, access_denied (49), in a TLS 1.2 record: clients report "access denied". */
export const TLS_ACCESS_DENIED_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31]);
