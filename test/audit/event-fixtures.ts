import assert from 'node:assert/strict';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { assertValidOcsf } from './ocsf-schema.ts';

// Shared inputs for the event builder tests: one user, one agent session in one workspace,
// one bundle, and the checks every decision event must pass.

export const TIME = Date.UTC(2026, 0, 15, 9, 30);
export const alice = {
  uid: 'oidc|5f2a9c',
  name: 'alice',
  email: 'alice@example.com',
  groups: ['engineering', 'appsec'],
};
export const agent = {
  time: TIME,
  workspaceId: 'ws-alice-01',
  sessionId: 'as-7f3c2e',
  user: alice,
  harness: 'claude-code',
  blueprint: { name: 'code-review', version: '1.3.0' },
};
export const bundle = { id: 'bundle-code-review', version: '42' };

/** Valid OCSF 1.8.0, named `name`, mapped from `decision`, carrying the bundle and blueprint. */
export function expectDecision(event: OcsfEvent, decision: 'allow' | 'deny' | 'review', name: string): void {
  assertValidOcsf(event);
  const expected = {
    allow: { action_id: 1, disposition_id: 1, status_id: 1 },
    deny: { action_id: 2, disposition_id: 2, status_id: 2 },
    review: { action_id: 99, disposition_id: 14, status_id: 99 },
  }[decision];
  assert.equal(event.metadata.event_code, name);
  assert.equal(event.type_uid, event.class_uid * 100 + event.activity_id);
  assert.deepEqual(
    { action_id: event['action_id'], disposition_id: event['disposition_id'], status_id: event['status_id'] },
    expected,
  );
  assert.deepEqual(event['policy'], {
    uid: 'bundle-code-review',
    version: '42',
    type: 'Paddock policy bundle',
    is_applied: true,
  });
  assert.deepEqual(event['unmapped'], { paddock: { blueprint: { name: 'code-review', version: '1.3.0' } } });
  assert.ok(event.metadata.profiles?.includes('security_control'));
}
