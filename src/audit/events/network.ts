import { buildEvent } from './base.ts';
import { decisionEventName } from './catalog.ts';
import { NETWORK_ACTIVITY } from './classes.ts';
import { decisionFields } from './decision.ts';
import { endpointObject, sandboxEndpoint } from './objects.ts';
import type { AgentContext, AuditEndpoint, DecisionInput, OcsfEvent } from './types.ts';

// Network Activity (4001): connections the egress gateway opened or refused for a sandbox.
// Requests inside an inspected connection are HTTP Activity (see http.ts).

/** Where a sandbox tried to connect. `service` is the blueprint service the destination matched. */
export interface EgressDestination extends AuditEndpoint {
  readonly service?: string;
}

interface ConnectionInput extends AgentContext {
  readonly destination: EgressDestination;
  /** The sandbox's address on its private link, when it has one. */
  readonly sourceIp?: string;
  /** Gateway-assigned connection id, to join open and close events. */
  readonly connectionId?: string;
  /** Transport protocol. Default `tcp`. */
  readonly protocol?: 'tcp' | 'udp';
}

export interface EgressDecisionInput extends ConnectionInput, DecisionInput {
  /** A connection is opened or refused; review gates apply to requests, not connections. */
  readonly decision: 'allow' | 'deny';
}

export interface EgressClosedInput extends ConnectionInput {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** How long the connection was open, milliseconds. */
  readonly durationMs: number;
}

function connectionFields(input: ConnectionInput): Record<string, unknown> {
  const protocol = input.protocol ?? 'tcp';
  return {
    src_endpoint: sandboxEndpoint(input.workspaceId, input.sourceIp),
    dst_endpoint: { ...endpointObject(input.destination), svc_name: input.destination.service },
    connection_info: {
      uid: input.connectionId,
      direction_id: 2,
      direction: 'Outbound',
      protocol_name: protocol,
      protocol_num: protocol === 'tcp' ? 6 : 17,
    },
    is_src_dst_assignment_known: true,
  };
}

/**
 * `egress.allowed` (activity Open) or `egress.denied` (activity Refuse) for one connection
 * attempt, with the deciding bundle and reason.
 * @example egressDecisionEvent({ workspaceId, sessionId, decision: 'deny', reasonCode: 'host_not_allowed',
 *   bundle: { id: 'b-1', version: '7' }, destination: { hostname: 'evil.example', port: 443 } })
 */
export function egressDecisionEvent(input: EgressDecisionInput): OcsfEvent {
  return buildEvent(
    NETWORK_ACTIVITY,
    decisionEventName('egress', input.decision),
    input.decision === 'allow' ? 1 : 5,
    input,
    { ...connectionFields(input), ...decisionFields(input) },
  );
}

/** `egress.closed` (activity Close): an allowed connection ended; carries bytes and duration. */
export function egressClosedEvent(input: EgressClosedInput): OcsfEvent {
  return buildEvent(NETWORK_ACTIVITY, 'egress.closed', 2, input, {
    ...connectionFields(input),
    traffic: { bytes_in: input.bytesIn, bytes_out: input.bytesOut, bytes: input.bytesIn + input.bytesOut },
    duration: input.durationMs,
    status_id: 1,
    status: 'Success',
  });
}
