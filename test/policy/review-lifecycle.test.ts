import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  approvalUsableUntil,
  canTransition,
  digestMaterial,
  gateStep,
  isOpen,
  parseGate,
  REVIEW_TRANSITIONS,
  type RequestTimes,
  type ReviewStatusName,
  timeoutStatus,
  voteOutcome,
} from '../../src/policy/index.ts';

// The review lifecycle's pure rules, exhaustively over their small domains.

const STATUSES: readonly ReviewStatusName[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

function times(status: ReviewStatusName, extra: Partial<RequestTimes> = {}): RequestTimes {
  const decided = status === 'pending' ? null : T0 + HOUR;
  return { status, createdAt: T0, expiresAt: T0 + 4 * HOUR, decidedAt: decided, consumedAt: null, ...extra };
}

describe('review lifecycle', () => {
  it('moves only pending requests, and only once', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const expected = from === 'pending' && to !== 'pending';
        assert.equal(canTransition(from, to), expected, `${from} -> ${to}`);
      }
    }
    assert.deepEqual(Object.keys(REVIEW_TRANSITIONS).sort(), [...STATUSES].sort());
  });

  it('decides a vote: deny at once, approve at minApprovals distinct approvals', () => {
    for (let min = 1; min <= 10; min++) {
      for (let approvals = 0; approvals <= 11; approvals++) {
        assert.equal(voteOutcome('deny', approvals, min), 'denied');
        assert.equal(
          voteOutcome('approve', approvals, min),
          approvals >= min ? 'approved' : 'pending',
          `${approvals}/${min}`,
        );
      }
    }
  });

  it('applies onTimeout', () => {
    assert.equal(timeoutStatus('deny'), 'expired');
    assert.equal(timeoutStatus('allow'), 'approved');
  });

  it('keeps a request open until its timeout, exclusive', () => {
    assert.equal(isOpen(times('pending'), T0 + 4 * HOUR - 1), true);
    assert.equal(isOpen(times('pending'), T0 + 4 * HOUR), false);
    for (const status of STATUSES.filter((s) => s !== 'pending'))
      assert.equal(isOpen(times(status), T0), false);
  });

  it('lets an approval be used for one timeout period after its decision', () => {
    assert.equal(approvalUsableUntil(times('approved')), T0 + HOUR + 4 * HOUR);
    assert.equal(approvalUsableUntil(times('approved', { decidedAt: null })), T0 + 4 * HOUR);
  });

  it('answers a retried call from the newest bound request', () => {
    const before = T0 + HOUR + 1;
    const after = T0 + 6 * HOUR;
    const cases: [string, RequestTimes | undefined, number, string][] = [
      ['no request', undefined, before, 'hold'],
      ['pending, in time', times('pending'), before, 'wait'],
      ['pending, at the timeout', times('pending'), T0 + 4 * HOUR, 'expire'],
      ['pending, past the timeout', times('pending'), after, 'expire'],
      ['approved, unused', times('approved'), before, 'consume'],
      ['approved, used', times('approved', { consumedAt: before }), before, 'hold'],
      ['approved, unused past its use window', times('approved'), T0 + 5 * HOUR, 'hold'],
      ['approved by timeout, unused', times('approved', { decidedAt: T0 + 4 * HOUR }), after, 'consume'],
      ['denied', times('denied'), before, 'refuse'],
      ['denied, much later', times('denied'), after * 2, 'refuse'],
      ['expired', times('expired'), after, 'refuse'],
      ['cancelled', times('cancelled'), before, 'hold'],
    ];
    for (const [label, latest, now, step] of cases) assert.equal(gateStep(latest, now), step, label);
    for (const status of STATUSES) assert.ok(gateStep(times(status), before), `${status} has a step`);
  });

  it('parses a gate and refuses a malformed one with every problem named', () => {
    assert.deepEqual(
      parseGate({ reviewers: ['group:appsec'], minApprovals: 2, timeout: '90m', onTimeout: 'allow' }),
      {
        reviewers: ['group:appsec'],
        minApprovals: 2,
        timeoutMs: 90 * 60_000,
        onTimeout: 'allow',
      },
    );
    assert.throws(
      () =>
        parseGate({
          reviewers: ['appsec', 'user:bob'],
          minApprovals: 0,
          timeout: '0s',
          onTimeout: 'maybe' as 'deny',
        }),
      {
        code: 'PDK_REVIEW_INVALID',
        message:
          'review gate is invalid: timeout "0s" is not a duration such as 4h; minApprovals 0 is not an integer ' +
          'from 1 to 10; onTimeout "maybe" is not deny or allow; reviewers appsec are not group:NAME or user:ID',
      },
    );
    assert.throws(() => parseGate({ reviewers: [], minApprovals: 11, timeout: '4x', onTimeout: 'deny' }), {
      code: 'PDK_REVIEW_INVALID',
      message:
        'review gate is invalid: timeout "4x" is not a duration such as 4h; minApprovals 11 is not an integer from 1 to 10',
    });
  });

  it('binds the digest to the exact action, resource and arguments', () => {
    assert.deepEqual(digestMaterial({ action: 'exec', resource: 'git push' }), {
      v: 1,
      action: 'exec',
      resource: 'git push',
      arguments: null,
    });
    assert.deepEqual(digestMaterial({ action: 'mcp_call', resource: 'gh/merge', arguments: { pr: 1 } }), {
      v: 1,
      action: 'mcp_call',
      resource: 'gh/merge',
      arguments: { pr: 1 },
    });
  });
});
