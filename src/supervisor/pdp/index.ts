export { policyInputFromBlueprint, policySourceFile } from './blueprint-input.ts';
export { pdpDecisionEvent } from './decision-events.ts';
export type { PdpAuditContext, Redact } from './decision-events.ts';
export { parseRequestLine, responseLine } from './protocol.ts';
export type { ParsedLine, RequestId } from './protocol.ts';
export { startPdpServer } from './pdp-server.ts';
export type { PdpServer, PdpServerOptions } from './pdp-server.ts';
export { gateDecision, heldCallFor } from './pdp-review.ts';
export type { PdpReviewOptions, ReviewAnswer } from './pdp-review.ts';
