import { decideRequest, type EgressDecision, type EgressRequestDecision } from '../../policy/index.ts';
import type { Admitted, ClientConnection, GatewayCore } from './admission.ts';
import { placeholdersInRequest } from './credentials.ts';
import { headerValue, type RequestHead } from './http-head.ts';

// The request-stage checks of an admitted destination, in order: credential placeholders
// (refused on any service they are not bound to, whatever the rules say), protocol
// upgrades (WebSocket only, and only as a GET the rules allow), then, for inspected
// services, method and path against the service's access and rules.

export function checkRequest(
  core: GatewayCore,
  connection: ClientConnection,
  admitted: Admitted,
  head: RequestHead,
  path: string,
  bodyStart: Buffer,
): EgressRequestDecision {
  const service = admitted.service.name;
  const misdirected = placeholdersInRequest(core.placeholders, head.target, head.fields, bodyStart).filter(
    (binding) => !binding.services.has(service),
  );
  if (misdirected.length > 0) {
    for (const binding of misdirected) {
      core.log.placeholderMisdirected({
        connectionId: connection.id,
        host: admitted.host,
        port: admitted.port,
        credential: binding.credential,
        service,
      });
    }
    return {
      allow: false,
      stage: 'request',
      reason: 'placeholder_misdirected',
      service,
      rule: `${service}#credential`,
      detail: `the request carries the placeholder of credential "${misdirected[0]!.credential}", which is not bound to ${service}`,
      missingRule: `send this credential only to the services that name it (${[...misdirected[0]!.services].join(', ')})`,
    };
  }
  const upgrade = headerValue(head, 'upgrade');
  if (upgrade !== undefined && (upgrade.toLowerCase() !== 'websocket' || head.method !== 'GET')) {
    return {
      allow: false,
      stage: 'request',
      reason: 'protocol_not_allowed',
      service,
      rule: `${service}#hosts`,
      detail: `Upgrade "${upgrade.slice(0, 40)}" is not allowed: only GET with Upgrade: websocket`,
    };
  }
  if (!admitted.inspect) return { ...admitted.decision, stage: 'request' };
  return decideRequest(admitted.service, head.method, path);
}

/** The review gate covering a request the rules allowed (inspected services only), or undefined. */
export function reviewRuleFor(
  core: GatewayCore,
  admitted: Admitted,
  head: RequestHead,
  path: string,
): string | undefined {
  if (!admitted.inspect || !core.reviewGate) return undefined;
  const { host, port } = admitted;
  return core.reviewGate({ service: admitted.service.name, host, port, method: head.method, path });
}

/** Records a request-stage denial: HTTP Activity for inspected services, Network Activity otherwise. */
export function reportDenied(
  core: GatewayCore,
  connection: ClientConnection,
  decision: EgressDecision,
  head: RequestHead,
  admitted: Admitted | undefined,
  url?: string,
): void {
  const facts = {
    connectionId: connection.id,
    sourceIp: connection.sourceIp,
    host: admitted?.host ?? '',
    port: admitted?.port ?? 0,
    ip: admitted?.addresses[0],
  };
  if (admitted?.inspect && url) {
    core.audit.request(
      decision,
      { method: head.method, url, userAgent: headerValue(head, 'user-agent'), responseCode: 403 },
      facts,
    );
  } else if (decision.stage === 'request') {
    // Connect- and address-stage denials were recorded by admit().
    core.audit.connection(decision, facts);
  }
  // Connect- and address-stage denials were logged by admit(); placeholders by checkRequest().
  if (decision.stage === 'request' && decision.reason !== 'placeholder_misdirected') {
    core.log.denied({
      connectionId: connection.id,
      host: admitted?.host,
      port: admitted?.port,
      service: decision.service,
      reason: decision.reason,
      stage: decision.stage,
    });
  }
}

/** The absolute URL of a request, for events (default ports omitted, IPv6 bracketed). */
export function requestUrl(scheme: 'http' | 'https', admitted: Admitted, pathAndQuery: string): string {
  const host = admitted.literal && admitted.host.includes(':') ? `[${admitted.host}]` : admitted.host;
  const port = admitted.port === (scheme === 'https' ? 443 : 80) ? '' : `:${admitted.port}`;
  return `${scheme}://${host}${port}${pathAndQuery}`;
}
