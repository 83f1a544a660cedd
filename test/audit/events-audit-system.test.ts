import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditSystemEvent } from '../../src/audit/index.ts';
import { alice, TIME } from './event-fixtures.ts';
import { assertValidOcsf } from './ocsf-schema.ts';

// Events of the audit pipeline itself, checked against the OCSF 1.8.0 schema files.

describe('API Activity (6003) for the audit system', () => {
  it('records checkpoints, rotations and exports as successful Create and Read', () => {
    const checkpoint = auditSystemEvent({
      time: TIME,
      event: 'audit.checkpoint_written',
      component: 'controlplane',
      resource: 'checkpoint 12',
      details: { gseq: 40210, sources: 31 },
    });
    assertValidOcsf(checkpoint);
    assert.deepEqual([checkpoint.class_uid, checkpoint.activity_id, checkpoint['status_id']], [6003, 1, 1]);
    assert.deepEqual(checkpoint['actor'], { app_name: 'Paddock controlplane' });
    assert.deepEqual(checkpoint['unmapped'], { paddock: { audit: { gseq: 40210, sources: 31 } } });
    const rotated = auditSystemEvent({
      time: TIME,
      event: 'audit.spool_rotated',
      component: 'ws-1',
      resource: 'segment-0000000000000101.jsonl',
    });
    assertValidOcsf(rotated);
    const exported = auditSystemEvent({
      time: TIME,
      event: 'audit.exported',
      component: 'cli',
      resource: 'export.jsonl',
      user: alice,
      details: { events: 20 },
    });
    assertValidOcsf(exported);
    assert.equal(exported.activity_id, 2);
    assert.equal((exported['actor'] as { user: { email_addr: string } }).user.email_addr, alice.email);
  });

  it('records a failed verification at severity High with the reason', () => {
    const failed = auditSystemEvent({
      time: TIME,
      event: 'audit.verify_failed',
      component: 'cli',
      resource: 'gseq 17',
      failure: { reasonCode: 'record_edited', reason: 'hash does not match the record content' },
    });
    assertValidOcsf(failed);
    assert.deepEqual(
      [failed.severity_id, failed['status_id'], failed['status_code'], failed['status_detail']],
      [4, 2, 'record_edited', 'hash does not match the record content'],
    );
  });
});
