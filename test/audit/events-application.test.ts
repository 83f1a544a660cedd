import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  componentEvent,
  findingEvent,
  mcpDecisionEvent,
  policyEvent,
  reviewResolvedEvent,
} from '../../src/audit/index.ts';
import { agent, alice, bundle, expectDecision, TIME } from './event-fixtures.ts';
import { assertValidOcsf } from './ocsf-schema.ts';

// Builders of the application and findings classes (MCP and reviews, lifecycle, detections),
// checked against the OCSF 1.8.0 schema files.

describe('API Activity (6003)', () => {
  it('records MCP tool calls', () => {
    const read = mcpDecisionEvent({
      ...agent,
      decision: 'allow',
      reasonCode: 'tool_allowed',
      bundle,
      server: 'github',
      tool: 'get_pull_request',
      kind: 'read',
      requestId: '17',
    });
    expectDecision(read, 'allow', 'mcp.allowed');
    assert.equal(read.activity_id, 2);
    const call = mcpDecisionEvent({
      ...agent,
      decision: 'review',
      reasonCode: 'write_requires_review',
      bundle,
      server: 'github',
      tool: 'create_pending_review',
    });
    expectDecision(call, 'review', 'mcp.review_requested');
    assert.deepEqual([call.activity_id, call['activity_name']], [99, 'Tool Call']);
    const denied = mcpDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'tool_not_allowed',
      bundle,
      server: 'github',
      tool: 'delete_repository',
      kind: 'delete',
    });
    expectDecision(denied, 'deny', 'mcp.denied');
  });
  it('records review resolutions correlated with the held request', () => {
    const base = {
      time: TIME,
      reviewId: 'rv-18',
      heldAction: 'POST https://api.github.com/repos/acme/web/pulls/12/reviews',
      bundle,
      requester: alice,
    };
    const bob = { uid: 'oidc|77b1', name: 'bob', groups: ['appsec'] };
    const approved = reviewResolvedEvent({
      ...base,
      outcome: 'approved',
      reviewer: bob,
      source: { ip: '198.51.100.4' },
      comment: 'ok',
    });
    assertValidOcsf(approved);
    assert.deepEqual(
      [approved['action_id'], approved['disposition_id'], approved.metadata.correlation_uid],
      [1, 8, 'rv-18'],
    );
    const rejected = reviewResolvedEvent({ ...base, outcome: 'rejected', reviewer: bob });
    assertValidOcsf(rejected);
    assert.deepEqual([rejected['action_id'], rejected['disposition_id']], [2, 25]);
    const expired = reviewResolvedEvent({ ...base, outcome: 'expired' });
    assertValidOcsf(expired);
    assert.deepEqual(
      [expired['action_id'], expired['disposition_id'], expired.metadata.event_code],
      [2, 2, 'review.expired'],
    );
    assert.deepEqual((expired['policy'] as { uid: string }).uid, 'bundle-code-review');
    const lenient = reviewResolvedEvent({ ...base, outcome: 'expired', onTimeout: 'allow' });
    assertValidOcsf(lenient);
    assert.deepEqual([lenient['action_id'], lenient['disposition_id']], [1, 1]);
  });
});

describe('Application Lifecycle (6002)', () => {
  it('records component transitions', () => {
    const cases = [
      ['workspace.created', 1],
      ['workspace.started', 3],
      ['workspace.rebuilt', 8],
      ['workspace.revoked', 7],
      ['workspace.decommissioned', 2],
      ['sandbox.started', 3],
      ['sandbox.stopped', 4],
      ['supervisor.restarted', 5],
    ] as const;
    for (const [event, activityId] of cases) {
      const built = componentEvent({ ...agent, event, componentId: 'sbx-19' });
      assertValidOcsf(built);
      assert.deepEqual([built.activity_id, built.metadata.event_code], [activityId, event]);
    }
    const failed = componentEvent({
      time: TIME,
      workspaceId: 'ws-1',
      event: 'sandbox.started',
      componentId: 'sbx-20',
      failure: { reasonCode: 'bwrap_failed' },
    });
    assertValidOcsf(failed);
    assert.deepEqual([failed['status_id'], failed['status_code']], [2, 'bwrap_failed']);
  });
  it('records bundle release, application and refusal with the bundle', () => {
    const applied = policyEvent({
      time: TIME,
      workspaceId: 'ws-1',
      event: 'policy.applied',
      bundle,
      channel: 'stable',
    });
    assertValidOcsf(applied);
    assert.deepEqual([applied['action_id'], (applied['policy'] as { version: string }).version], [1, '42']);
    const released = policyEvent({ time: TIME, event: 'policy.released', bundle, user: alice });
    assertValidOcsf(released);
    const rejected = policyEvent({
      time: TIME,
      workspaceId: 'ws-1',
      event: 'policy.rejected',
      bundle: { id: 'bundle-code-review', version: '41' },
      keptBundle: bundle,
      failure: { reasonCode: 'version_rollback', reason: '41 < 42' },
    });
    assertValidOcsf(rejected);
    assert.deepEqual(
      [rejected['action_id'], rejected['disposition_id'], rejected['severity_id'], rejected['status_id']],
      [2, 25, 4, 2],
    );
  });
});

describe('Detection Finding (2004)', () => {
  it('records a finding through its lifecycle', () => {
    const base = {
      ...agent,
      findingId: 'f-204',
      title: 'Cloud metadata endpoint probed',
      detector: 'egress.metadata_probe',
      severityId: 4 as const,
      types: ['credential-access'],
    };
    const created = findingEvent({
      ...base,
      event: 'finding.created',
      confidence: 'high',
      evidence: [
        { destination: { ip: '169.254.169.254', port: 80 }, url: 'http://169.254.169.254/latest/meta-data/' },
        {
          command: { argv: ['curl', '-s', 'http://169.254.169.254/'], processUid: 'p-1' },
          path: '/workspace/x.sh',
        },
      ],
      enforcement: { decision: 'deny', reasonCode: 'metadata_address', bundle },
    });
    assertValidOcsf(created);
    assert.deepEqual(
      [created.type_uid, created['status_id'], created['is_alert'], created['action_id']],
      [200401, 1, true, 2],
    );
    const closed = findingEvent({ ...base, event: 'finding.closed' });
    assertValidOcsf(closed);
    assert.deepEqual([closed['status_id'], closed['is_alert']], [4, false]);
  });
});
