import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvedMessage, deniedMessage, expiredMessage, pendingMessage } from '../../src/policy/index.ts';

// What the agent is told: the exact texts, since hooks and the MCP gateway pass them on verbatim.

const SUBJECT = {
  id: 'rv-1',
  reviewers: ['group:appsec', 'user:lead@example.com'],
  minApprovals: 2,
  approvals: 0,
  expiresAt: Date.UTC(2025, 0, 1, 4),
  onTimeout: 'deny' as const,
};

describe('review messages', () => {
  it('tells a pending call who reviews it, until when, and to retry the identical call once after approval', () => {
    assert.equal(
      pendingMessage(SUBJECT),
      'Paddock held this call for human review (review rv-1): it awaits 2 more approvals from group:appsec, ' +
        'user:lead@example.com, until 2025-01-01T04:00:00.000Z, after which it is denied. Do not retry it now ' +
        'and do not poll: continue with other work or stop and tell the user. Once it is approved, retry the ' +
        'identical call (same arguments) once; a changed call needs a new review. A reviewer answers with ' +
        '`paddock review approve rv-1 --reason TEXT`.',
    );
    const one = pendingMessage({ ...SUBJECT, approvals: 1, onTimeout: 'allow', reviewers: [] });
    assert.match(one, /awaits 1 more approval from nobody \(the gate names no reviewers\), until /);
    assert.match(one, /after which it is allowed \(onTimeout allow\)\./);
  });

  it('tells a denied call who denied it and why, and not to retry it', () => {
    assert.equal(
      deniedMessage('rv-1', 'bob', 'force-push to main'),
      'Paddock review rv-1 denied this call (denied by bob: "force-push to main"). Do not retry the identical ' +
        'call; it stays denied for this session. A changed call needs a new review.',
    );
    assert.match(deniedMessage('rv-1', null, null), /\(denied by a reviewer\)\./);
  });

  it('tells an expired call it was denied by the timeout', () => {
    assert.equal(
      expiredMessage('rv-1', SUBJECT.expiresAt),
      'Paddock review rv-1 expired at 2025-01-01T04:00:00.000Z without enough approvals, so this call is denied ' +
        '(onTimeout deny). Do not retry the identical call; it stays denied for this session. A changed call ' +
        'needs a new review.',
    );
  });

  it('tells an approved call it goes through once', () => {
    assert.equal(
      approvedMessage('rv-1', false),
      'Paddock review rv-1 approved this call; it goes through once. Repeating it needs a new review.',
    );
    assert.equal(
      approvedMessage('rv-1', true),
      'Paddock review rv-1 timed out and its gate allows the call (onTimeout allow); it goes through once.',
    );
  });
});
