import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReviewer, matchReviewer, type ReviewerIdentity, sameUser } from '../../src/policy/index.ts';

// Who may answer a review: every combination of "is the requester", "named as a user" and
// "in a named group", plus the edges (case, whitespace, unknown entry kinds, no reviewers).

const REQUEST = { id: 'rv-1', requester: 'alice@example.com' };

describe('review reviewers', () => {
  it('decides every combination of requester, user entry and group entry', () => {
    for (const isRequester of [false, true]) {
      for (const namedAsUser of [false, true]) {
        for (const inGroup of [false, true]) {
          const id = isRequester ? 'alice@example.com' : 'bob@example.com';
          const reviewers = [...(namedAsUser ? [`user:${id}`] : ['user:carol@example.com']), 'group:appsec'];
          const reviewer: ReviewerIdentity = { id, groups: inGroup ? ['dev', 'appsec'] : ['dev'] };
          const check = checkReviewer(reviewer, { ...REQUEST, reviewers });
          const label = JSON.stringify({ isRequester, namedAsUser, inGroup });
          if (isRequester) {
            assert.deepEqual(
              check,
              {
                allowed: false,
                refusal: 'self_approval',
                message:
                  'alice@example.com requested review rv-1 and cannot answer it: another reviewer must',
              },
              label,
            );
          } else if (namedAsUser) {
            assert.deepEqual(check, { allowed: true, via: `user:${id}` }, label);
          } else if (inGroup) {
            assert.deepEqual(check, { allowed: true, via: 'group:appsec' }, label);
          } else {
            assert.deepEqual(
              check,
              {
                allowed: false,
                refusal: 'not_a_reviewer',
                message:
                  'bob@example.com is not a reviewer of review rv-1: it may be answered by user:carol@example.com, group:appsec',
              },
              label,
            );
          }
        }
      }
    }
  });

  it('refuses the requester however their id is cased or padded, even when the gate names them', () => {
    for (const id of ['ALICE@example.com', ' alice@Example.COM ', 'alice@example.com']) {
      const check = checkReviewer(
        { id, groups: ['appsec'] },
        { ...REQUEST, reviewers: [`user:${id}`, 'group:appsec'] },
      );
      assert.equal(check.allowed, false, id);
      assert.equal(check.allowed === false && check.refusal, 'self_approval', id);
    }
  });

  it('matches user ids without case, group names exactly', () => {
    assert.equal(
      matchReviewer({ id: 'Bob@Example.com', groups: [] }, ['user:bob@example.com']),
      'user:bob@example.com',
    );
    assert.equal(matchReviewer({ id: 'bob', groups: ['AppSec'] }, ['group:appsec']), undefined);
    assert.equal(matchReviewer({ id: 'bob', groups: ['appsec'] }, ['group:appsec']), 'group:appsec');
    assert.equal(sameUser(' Bob ', 'bob'), true);
    assert.equal(sameUser('bob', 'bobby'), false);
  });

  it('admits nobody through an unknown entry kind, a prefix or an empty list', () => {
    const bob = { id: 'bob', groups: ['appsec'] };
    assert.equal(
      matchReviewer(bob, ['role:appsec', 'bob', 'groups:appsec', 'user:bo', 'group:app']),
      undefined,
    );
    assert.deepEqual(checkReviewer(bob, { ...REQUEST, reviewers: [] }), {
      allowed: false,
      refusal: 'not_a_reviewer',
      message:
        'bob is not a reviewer of review rv-1: it may be answered by nobody (the gate names no reviewers)',
    });
  });

  it('refuses an anonymous reviewer', () => {
    assert.deepEqual(
      checkReviewer({ id: '  ', groups: ['appsec'] }, { ...REQUEST, reviewers: ['group:appsec'] }),
      {
        allowed: false,
        refusal: 'not_a_reviewer',
        message: 'an anonymous reviewer cannot answer review rv-1',
      },
    );
  });
});
