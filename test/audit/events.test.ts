import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  egressClosedEvent,
  egressDecisionEvent,
  execDecisionEvent,
  fileDecisionEvent,
  httpDecisionEvent,
  processExitedEvent,
  sessionEvent,
} from '../../src/audit/index.ts';
import { agent, alice, bundle, expectDecision, TIME } from './event-fixtures.ts';
import { assertValidOcsf } from './ocsf-schema.ts';

// Builders of the system, identity and network classes, with realistic inputs: allow, deny and
// review where it applies, each checked against the OCSF 1.8.0 schema files and for the fields
// SIEM rules key on.

describe('Authentication (3002)', () => {
  it('records login, failed login, logout, expiry and revocation', () => {
    const base = {
      user: alice,
      sessionId: 'sess-91',
      time: TIME,
      source: { ip: '203.0.113.7', port: 51512 },
    };
    const login = sessionEvent({
      ...base,
      event: 'session.login',
      issuer: 'https://idp.example.com',
      mfa: true,
      expiresAt: TIME + 3_600_000,
    });
    assertValidOcsf(login);
    assert.equal(login.type_uid, 300201);
    assert.equal(login['status_id'], 1);
    assert.equal((login['user'] as { uid: string }).uid, 'oidc|5f2a9c');

    const failed = sessionEvent({
      ...base,
      event: 'session.login_failed',
      reasonCode: 'invalid_state',
      reason: 'state mismatch',
    });
    assertValidOcsf(failed);
    assert.deepEqual(
      [failed.activity_id, failed['status_id'], failed['status_code']],
      [1, 2, 'invalid_state'],
    );

    for (const event of ['session.logout', 'session.expired'] as const) {
      const ended = sessionEvent({ ...base, event });
      assertValidOcsf(ended);
      assert.equal(ended.type_uid, 300202);
    }
    const revoked = sessionEvent({ ...base, event: 'session.revoked', reasonCode: 'admin_revoked' });
    assertValidOcsf(revoked);
    assert.deepEqual([revoked['action_id'], revoked['disposition_id']], [2, 24]);
    const refreshed = sessionEvent({ ...base, event: 'session.refreshed' });
    assertValidOcsf(refreshed);
    assert.deepEqual([refreshed.activity_id, refreshed.type_uid, refreshed['status_id']], [99, 300299, 1]);
  });
});

describe('Network Activity (4001)', () => {
  const destination = { hostname: 'api.github.com', ip: '140.82.112.6', port: 443, service: 'github' };
  it('records allowed and refused connections with the deciding bundle', () => {
    const allowed = egressDecisionEvent({
      ...agent,
      decision: 'allow',
      reasonCode: 'service_allowed',
      bundle,
      destination,
      connectionId: 'c-1',
    });
    expectDecision(allowed, 'allow', 'egress.allowed');
    assert.equal(allowed.activity_id, 1);

    const denied = egressDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'metadata_address',
      reason: '169.254.169.254 is a cloud metadata address',
      bundle,
      ruleId: 'deny-private-ranges',
      destination: { ip: '169.254.169.254', port: 80 },
    });
    expectDecision(denied, 'deny', 'egress.denied');
    assert.deepEqual([denied.activity_id, denied['status_code']], [5, 'metadata_address']);
    assert.deepEqual(denied['authorizations'], [
      { decision: 'deny', policy: { uid: 'deny-private-ranges', type: 'Cedar policy', version: '42' } },
    ]);
  });
  it('records a closed connection with traffic', () => {
    const closed = egressClosedEvent({
      ...agent,
      destination,
      bytesIn: 18_200,
      bytesOut: 940,
      durationMs: 1_250,
      connectionId: 'c-1',
    });
    assertValidOcsf(closed);
    assert.deepEqual([closed.type_uid, (closed['traffic'] as { bytes: number }).bytes], [400102, 19_140]);
  });
});

describe('HTTP Activity (4002)', () => {
  const url = 'https://api.github.com/repos/acme/web/pulls/12/reviews';
  it('maps the method to the activity for allow, deny and review', () => {
    const get = httpDecisionEvent({
      ...agent,
      decision: 'allow',
      reasonCode: 'rule_matched',
      bundle,
      method: 'GET',
      url: 'https://api.github.com/repos/acme/web?per_page=5',
      responseCode: 200,
    });
    expectDecision(get, 'allow', 'http.allowed');
    assert.equal(get.activity_id, 3);

    const post = httpDecisionEvent({
      ...agent,
      decision: 'review',
      reasonCode: 'write_requires_review',
      bundle,
      method: 'post',
      url,
      correlationUid: 'rv-18',
    });
    expectDecision(post, 'review', 'http.review_requested');
    assert.deepEqual([post.activity_id, post.metadata.correlation_uid], [6, 'rv-18']);

    const del = httpDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'method_not_allowed',
      bundle,
      method: 'DELETE',
      url,
      responseCode: 403,
    });
    expectDecision(del, 'deny', 'http.denied');
    assert.equal(del.activity_id, 2);
  });
  it('records a method OCSF does not name as activity 99, and never records userinfo', () => {
    const odd = httpDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'method_not_allowed',
      bundle,
      method: 'PROPFIND',
      url: 'https://user:secret@dav.example.com/x',
    });
    expectDecision(odd, 'deny', 'http.denied');
    assert.deepEqual([odd.activity_id, odd['activity_name']], [99, 'PROPFIND']);
    assert.doesNotMatch(JSON.stringify(odd), /secret/);
  });
});

describe('Process Activity (1007)', () => {
  it('records exec decisions and exits', () => {
    const allowed = execDecisionEvent({
      ...agent,
      decision: 'allow',
      reasonCode: 'command_allowed',
      bundle,
      argv: ['npm', 'test'],
      pid: 4242,
      cwd: '/workspace',
    });
    expectDecision(allowed, 'allow', 'exec.allowed');
    assert.equal((allowed['process'] as { cmd_line: string }).cmd_line, 'npm test');

    const denied = execDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'command_denied',
      bundle,
      ruleId: 'deny-git-push',
      argv: ['git', 'push', 'origin', 'main; rm -rf /'],
    });
    expectDecision(denied, 'deny', 'exec.denied');
    assert.equal((denied['process'] as { cmd_line: string }).cmd_line, "git push origin 'main; rm -rf /'");

    const exited = processExitedEvent({
      ...agent,
      argv: ['/usr/bin/node', 'test.js'],
      pid: 4242,
      exitCode: 1,
      durationMs: 830,
    });
    assertValidOcsf(exited);
    assert.deepEqual([exited.type_uid, exited['exit_code']], [100702, 1]);
  });
});

describe('File System Activity (1001)', () => {
  it('maps each operation to its activity', () => {
    const cases = [
      ['read', 'allow', 2, '/workspace/src/index.ts'],
      ['write', 'allow', 3, '/workspace/src/index.ts'],
      ['create', 'review', 1, '/workspace/deploy.sh'],
      ['delete', 'deny', 4, '/workspace/.git/hooks/pre-commit'],
      ['read', 'deny', 2, '/workspace/.env'],
    ] as const;
    for (const [operation, decision, activityId, path] of cases) {
      const event = fileDecisionEvent({
        ...agent,
        decision,
        reasonCode: `path_${decision}`,
        bundle,
        operation,
        path,
        fileType: 'file',
      });
      expectDecision(
        event,
        decision,
        `file.${{ allow: 'allowed', deny: 'denied', review: 'review_requested' }[decision]}`,
      );
      assert.equal(event.activity_id, activityId);
    }
  });
});
