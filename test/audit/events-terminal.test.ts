import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostTerminalEvent, terminalAccessEvent, terminalRecordedEvent } from '../../src/audit/index.ts';
import { alice, TIME } from './event-fixtures.ts';
import { assertValidOcsf } from './ocsf-schema.ts';

// The access broker's terminal events, checked against the OCSF 1.8.0 schema files.

const attach = {
  time: TIME,
  workspaceId: 'ws-alice-01',
  user: alice,
  sessionId: 'cs-9d2e',
  attachId: 'at-31c4',
  mode: 'shell' as const,
  source: { ip: '192.0.2.10', port: 50122 },
};

describe('Web Resources Activity (6001)', () => {
  it('grants, denies and revokes terminal access', () => {
    const granted = terminalAccessEvent({ ...attach, event: 'terminal.attached' });
    assertValidOcsf(granted);
    assert.equal(granted.metadata.event_code, 'terminal.attached');
    assert.deepEqual(
      [granted.class_uid, granted.activity_id, granted['activity_name']],
      [6001, 99, 'Attach'],
    );
    assert.deepEqual([granted['action_id'], granted['disposition_id']], [1, 1]);
    assert.deepEqual(granted['actor'], {
      user: {
        uid: alice.uid,
        name: 'alice',
        email_addr: alice.email,
        groups: [{ name: 'engineering' }, { name: 'appsec' }],
        type_id: 1,
        type: 'User',
      },
      session: { uid: 'cs-9d2e' },
    });
    assert.deepEqual(granted['device'], { uid: 'ws-alice-01', type_id: 6, type: 'Virtual' });

    const denied = terminalAccessEvent({
      ...attach,
      attachId: undefined,
      event: 'terminal.denied',
      reasonCode: 'origin_not_allowed',
      reason: 'Origin https://evil.example is not allowed',
    });
    assertValidOcsf(denied);
    assert.deepEqual(
      [denied['activity_name'], denied['status_id'], denied['disposition_id']],
      ['Attach', 2, 2],
    );
    assert.equal(denied['status_code'], 'origin_not_allowed');

    const revoked = terminalAccessEvent({
      ...attach,
      event: 'terminal.revoked',
      reasonCode: 'session_revoked',
    });
    assertValidOcsf(revoked);
    assert.deepEqual(
      [revoked['activity_name'], revoked['action_id'], revoked['disposition_id']],
      ['Revoke', 2, 24],
    );
    assert.deepEqual(revoked['unmapped'], { paddock: { attach_id: 'at-31c4', mode: 'shell' } });
  });
});

describe('File System Activity (1001) for recordings', () => {
  it('carries the recording SHA-256, size and duration', () => {
    const sha256 = 'a'.repeat(64);
    const event = terminalRecordedEvent({
      time: TIME,
      workspaceId: 'ws-alice-01',
      user: alice,
      sessionId: 'cs-9d2e',
      attachId: 'at-31c4',
      path: '/srv/paddock/recordings/at-31c4.cast',
      sha256,
      sizeBytes: 812,
      startedAt: TIME - 60_000,
      endedAt: TIME,
      exitCode: 0,
      closeReason: 'exited',
    });
    assertValidOcsf(event);
    assert.equal(event.metadata.event_code, 'terminal.recorded');
    assert.deepEqual([event.class_uid, event.activity_id], [1001, 1]);
    const file = event['file'] as Record<string, unknown>;
    assert.deepEqual(file['hashes'], [{ algorithm_id: 3, algorithm: 'SHA-256', value: sha256 }]);
    assert.equal(file['size'], 812);
    assert.equal(event['duration'], 60_000);
    assert.deepEqual(event['unmapped'], { paddock: { attach_id: 'at-31c4', exit_code: 0 } });
  });
});

describe("Authentication (3002) for terminals on the host's own OpenSSH server", () => {
  const host = {
    time: TIME,
    workspaceId: 'ws-win-01',
    user: { uid: 'alice@example.com' },
    account: 'paddock',
    attachId: 'at-77',
    server: { ip: '127.0.0.1', port: 22 },
  };

  it('a shell logon names the local account as subject and the Paddock user as actor', () => {
    const logon = hostTerminalEvent({ ...host, event: 'terminal.host_logon', mode: 'shell' });
    assertValidOcsf(logon);
    assert.equal(logon.metadata.event_code, 'terminal.host_logon');
    assert.deepEqual([logon.class_uid, logon.activity_id, logon['activity_name']], [3002, 1, 'Logon']);
    assert.deepEqual(logon['user'], { name: 'paddock', type_id: 1, type: 'User' });
    assert.equal((logon['actor'] as { user: { uid: string } }).user.uid, 'alice@example.com');
    assert.deepEqual([logon['auth_protocol_id'], logon['logon_type_id']], [99, 10]);
    assert.deepEqual(logon['dst_endpoint'], { ip: '127.0.0.1', port: 22 });
    assert.deepEqual(logon['unmapped'], {
      paddock: { attach_id: 'at-77', mode: 'shell', account: 'paddock' },
    });
  });

  it('an ssh relay leaves the method to the user; a logoff carries the exit status and duration; a failure is Low', () => {
    const relayed = hostTerminalEvent({ ...host, event: 'terminal.host_logon', mode: 'ssh' });
    assertValidOcsf(relayed);
    assert.equal(relayed['auth_protocol_id'], undefined);
    const logoff = hostTerminalEvent({
      ...host,
      event: 'terminal.host_logoff',
      mode: 'shell',
      exitCode: 3,
      startedAt: TIME - 5000,
      endedAt: TIME,
    });
    assertValidOcsf(logoff);
    assert.deepEqual([logoff['activity_name'], logoff['duration']], ['Logoff', 5000]);
    assert.equal((logoff['unmapped'] as { paddock: { exit_code: number } }).paddock.exit_code, 3);
    const failed = hostTerminalEvent({
      ...host,
      event: 'terminal.host_logon',
      mode: 'ssh',
      failure: { reasonCode: 'host_ssh_unavailable', reason: 'connection refused' },
    });
    assertValidOcsf(failed);
    assert.deepEqual(
      [failed['status_id'], failed['severity_id'], failed['status_code']],
      [2, 2, 'host_ssh_unavailable'],
    );
  });
});
