import { type EgressDecision, hostsAgree, splitAuthority } from '../../policy/index.ts';
import { type Admitted, admit, type ClientConnection, type GatewayCore } from './admission.ts';
import { headerValue, parseTarget, type RequestHead } from './http-head.ts';
import { errorBody, type EgressErrorBody, missingServiceRule } from './responses.ts';

// Where a request inside an HTTP session goes, and the checks that hold the request to
// the connection it arrived on. The Host header must name the same host (and port) as the
// CONNECT target, the SNI, the SOCKS request or the absolute URL: a request for one host
// must not travel inside a connection admitted for another (domain fronting).

/** How a session finds each request's destination. */
export type SessionMode =
  /** Explicit proxy: every request is absolute-form and names its own destination. */
  | { readonly kind: 'proxy' }
  /** Inside a CONNECT or SOCKS tunnel, or behind the 443 listener: one admitted destination. */
  | { readonly kind: 'bound'; readonly admitted: Admitted; readonly scheme: 'http' | 'https' }
  /** Transparent port 80: the first request's Host picks the destination; later ones must agree. */
  | { readonly kind: 'transparent'; readonly port: number };

export type TargetOutcome =
  | { readonly ok: true; readonly admitted: Admitted; readonly path: string; readonly query: string }
  | {
      readonly ok: false;
      readonly body: EgressErrorBody;
      readonly decision?: EgressDecision;
      readonly status?: 'malformed';
    };

const malformed = (detail: string): TargetOutcome => ({
  ok: false,
  body: errorBody('PDK_EGRESS_BAD_REQUEST', 'request_malformed', { detail }),
  status: 'malformed',
});

/**
 * Resolves and checks the destination of one request. `current` is the destination the
 * session is bound to so far (reused when the request names the same host and port).
 */
export async function requestTarget(
  core: GatewayCore,
  connection: ClientConnection,
  mode: SessionMode,
  current: Admitted | undefined,
  head: RequestHead,
): Promise<TargetOutcome> {
  const target = parseTarget(head.method, head.target);
  if (!target || target.form === 'authority')
    return malformed('request target is not origin-form or http absolute-form');
  if (target.form === 'asterisk') return malformed('asterisk-form requests are not forwarded');
  const hostHeader = headerValue(head, 'host');
  const defaultPort = mode.kind === 'bound' && mode.scheme === 'https' ? 443 : 80;
  const host = hostHeader === undefined ? undefined : splitAuthority(hostHeader, defaultPort);
  if (hostHeader !== undefined && !host) return malformed('Host header is not a valid host[:port]');

  let wanted: { host: string; port: number };
  if (target.form === 'absolute') {
    const authority = splitAuthority(target.authority, 80);
    if (!authority) return malformed('absolute URL has an invalid authority');
    wanted = authority;
  } else if (mode.kind === 'proxy') {
    return malformed('a proxy request must use an absolute http:// URL (CONNECT for https)');
  } else if (host) {
    wanted = host;
  } else if (current) {
    wanted = { host: current.host, port: current.port };
  } else {
    return malformed('request without Host');
  }
  if (host && (!hostsAgree(host.host, wanted.host) || host.port !== wanted.port)) {
    return mismatch(current, head, `Host "${hostHeader}" disagrees with the request target`);
  }
  if (mode.kind === 'bound') {
    if (!hostsAgree(wanted.host, mode.admitted.host) || wanted.port !== mode.admitted.port) {
      return mismatch(
        mode.admitted,
        head,
        `Host "${hostHeader}" disagrees with the tunnel to ${mode.admitted.host}:${mode.admitted.port}`,
      );
    }
    return { ok: true, admitted: mode.admitted, path: target.path, query: target.query };
  }
  if (mode.kind === 'transparent' && wanted.port !== mode.port) {
    return mismatch(
      current,
      head,
      `Host port ${wanted.port} disagrees with the port the connection was made to (${mode.port})`,
    );
  }
  if (current && hostsAgree(wanted.host, current.host) && wanted.port === current.port) {
    return { ok: true, admitted: current, path: target.path, query: target.query };
  }
  if (current && mode.kind === 'transparent') {
    return mismatch(
      current,
      head,
      `Host "${hostHeader}" disagrees with this connection's first request (${current.host})`,
    );
  }
  const admission = await admit(core, connection, wanted.host, wanted.port);
  if (!admission.allow) {
    const { decision } = admission;
    return {
      ok: false,
      decision,
      body: errorBody('PDK_EGRESS_DENIED', decision.reason, {
        service: decision.service,
        method: head.method,
        path: `${wanted.host}:${wanted.port}`,
        ...(decision.reason === 'address_denied' ? {} : { detail: decision.detail }),
        missingRule: missingServiceRule(wanted.host, wanted.port, decision.reason, decision.service),
      }),
    };
  }
  return { ok: true, admitted: admission, path: target.path, query: target.query };
}

function mismatch(admitted: Admitted | undefined, head: RequestHead, detail: string): TargetOutcome {
  const service = admitted?.service.name;
  const decision: EgressDecision = {
    allow: false,
    stage: 'request',
    reason: 'host_mismatch',
    rule: service ? `${service}#hosts` : 'default-deny',
    ...(service ? { service } : {}),
    detail,
  };
  return {
    ok: false,
    decision,
    body: errorBody('PDK_EGRESS_DENIED', 'host_mismatch', {
      service,
      method: head.method,
      path: head.target,
      detail,
    }),
  };
}
