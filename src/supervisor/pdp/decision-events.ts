import {
  type AgentContext,
  type DecisionInput,
  egressDecisionEvent,
  execDecisionEvent,
  fileDecisionEvent,
  findingEvent,
  httpDecisionEvent,
  mcpDecisionEvent,
  type OcsfEvent,
} from '../../audit/index.ts';
import { newId } from '../../core/index.ts';
import type { DecisionRequest, PolicyDecision } from '../../policy/index.ts';

// One OCSF event per decision the PDP socket answers, built by the audit plane's builders:
// exec → Process Activity, read/write_file → File System Activity, connect → Network Activity,
// http_request → HTTP Activity, mcp_call → API Activity. A request too malformed to name what it
// asked for is recorded as a Detection Finding (`pdp.malformed_request`), still with the bundle.

/** What the events say about who asked; the session is the one the socket serves. */
export type PdpAuditContext = Omit<AgentContext, 'time' | 'uid' | 'message'>;

/** Applies the blueprint's redaction to text recorded in events (argv words, URLs). */
export type Redact = (text: string) => string;

function decisionInput(decision: PolicyDecision): DecisionInput {
  return {
    decision: decision.decision,
    reasonCode: decision.reason,
    ...(decision.detail ? { reason: decision.detail } : {}),
    bundle: decision.bundle,
    ...(decision.policyIds[0] ? { ruleId: decision.policyIds[0] } : {}),
  };
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')
    ? value
    : undefined;

function httpUrl(request: Record<string, unknown>): string | undefined {
  try {
    if (typeof request['url'] === 'string') return new URL(request['url']).href;
    const { host, port, path } = request;
    if (typeof host !== 'string' || typeof port !== 'number' || typeof path !== 'string') return undefined;
    const authority = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return new URL(`${port === 80 ? 'http' : 'https'}://${authority}:${port}${path}`).href;
  } catch {
    return undefined;
  }
}

/** The decision event for one answered request. */
export function pdpDecisionEvent(
  request: unknown,
  decision: PolicyDecision,
  context: PdpAuditContext,
  redact: Redact = (text) => text,
): OcsfEvent {
  const fields = (request ?? {}) as Record<string, unknown>;
  const base = { ...context, ...decisionInput(decision) };
  const action = (request as DecisionRequest | undefined)?.action;
  switch (action) {
    case 'exec': {
      const argv = strings(fields['argv']);
      if (argv) return execDecisionEvent({ ...base, argv: argv.map(redact) });
      break;
    }
    case 'read_file':
    case 'write_file':
      if (typeof fields['path'] === 'string' && fields['path'].length > 0)
        return fileDecisionEvent({
          ...base,
          operation: action === 'read_file' ? 'read' : 'write',
          path: fields['path'],
        });
      break;
    case 'connect':
      if (typeof fields['host'] === 'string' && Number.isInteger(fields['port'])) {
        return egressDecisionEvent({
          ...base,
          // A connection is never held; the PDP already turns a gate on connect into deny.
          decision: decision.decision === 'allow' ? 'allow' : 'deny',
          destination: { hostname: fields['host'], port: fields['port'] as number },
        });
      }
      break;
    case 'http_request': {
      const url = httpUrl(fields);
      if (url && typeof fields['method'] === 'string')
        return httpDecisionEvent({ ...base, method: fields['method'], url: redact(url) });
      break;
    }
    case 'mcp_call':
      if (typeof fields['server'] === 'string' && typeof fields['tool'] === 'string')
        return mcpDecisionEvent({ ...base, server: fields['server'], tool: fields['tool'] });
      break;
  }
  return findingEvent({
    ...context,
    event: 'finding.created',
    findingId: newId(),
    title: 'Malformed request to the policy decision point',
    description: decision.detail ?? decision.reason,
    detector: 'pdp.malformed_request',
    severityId: 3,
    types: ['policy-probe'],
    enforcement: decisionInput(decision),
  });
}
