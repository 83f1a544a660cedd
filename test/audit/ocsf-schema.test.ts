import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  egressDecisionEvent,
  execDecisionEvent,
  fileDecisionEvent,
  ocsfEventCheckFromEnv,
} from '../../src/audit/index.ts';
import { agent, bundle } from './event-fixtures.ts';
import { assertProblem, assertValidOcsf, OCSF_SCHEMA_DIR, ocsfProblems, ocsfSchema } from './ocsf-schema.ts';

// The validator must catch what a broken builder would produce; each case starts from a valid
// event and breaks exactly one thing.

// biome-ignore lint/suspicious/noExplicitAny: the cases break events at arbitrary depth.
type Mutable = Record<string, any>;

function denied(): Mutable {
  return structuredClone(
    egressDecisionEvent({
      ...agent,
      decision: 'deny',
      reasonCode: 'host_not_allowed',
      bundle,
      ruleId: 'default-deny',
      destination: { hostname: 'pastebin.com', ip: '104.20.208.21', port: 443 },
    }),
  ) as Mutable;
}

describe('OCSF 1.8.0 schema compilation', () => {
  it('resolves inheritance, includes and categories', () => {
    const schema = ocsfSchema();
    const auth = schema.classes.get(3002);
    assert.equal(auth?.caption, 'Authentication');
    assert.equal(auth?.categoryUid, 3);
    // inherited from base_event, required in user of iam/authentication, profile-gated from host
    assert.equal(auth?.attributes.get('time')?.requirement, 'required');
    assert.equal(auth?.attributes.get('user')?.requirement, 'required');
    assert.equal(auth?.attributes.get('device')?.profile, 'host');
    assert.equal(auth?.attributes.get('actor')?.profile, undefined);
    assert.equal(schema.classes.get(1007)?.attributes.get('device')?.requirement, 'required');
  });
});

describe('OCSF validator catches broken events', () => {
  it('accepts the unbroken event', () => {
    assertValidOcsf(denied());
  });

  it('a missing required attribute, at the top and nested', () => {
    const event = denied();
    delete event['severity_id'];
    assertProblem(event, 'severity_id', /^required attribute of class "network_activity" is missing$/);
    const nested = denied();
    delete nested['metadata']['product'];
    assertProblem(nested, 'metadata.product', /^required attribute of object "metadata" is missing$/);
    const file = structuredClone(
      fileDecisionEvent({
        ...agent,
        decision: 'allow',
        reasonCode: 'ok',
        bundle,
        operation: 'read',
        path: '/workspace/a',
      }),
    ) as Mutable;
    delete file['file']['name'];
    delete file['device'];
    assertProblem(file, 'file.name', /^required attribute of object "file" is missing$/);
    assertProblem(file, 'device', /^required attribute of class "file_activity" is missing$/);
  });

  it('a wrong type', () => {
    const event = denied();
    event['time'] = new Date(event['time']).toISOString();
    event['dst_endpoint']['port'] = 70_000;
    event['src_endpoint']['ip'] = '10.0.0.300';
    event['authorizations'][0]['policy']['uid'] = 17;
    event['connection_info'] = 'outbound';
    const problems = ocsfProblems(event);
    assert.deepEqual(problems, [
      { path: 'authorizations[0].policy.uid', message: 'expected string_t, got number 17' },
      {
        path: 'connection_info',
        message: 'expected object "network_connection_info", got string "outbound"',
      },
      { path: 'dst_endpoint.port', message: '70000 is outside the port_t range 0..65535' },
      { path: 'src_endpoint.ip', message: 'not a valid ip_t: 10.0.0.300' },
      { path: 'time', message: 'expected timestamp_t, got string "2026-01-15T09:30:00.000Z"' },
    ]);
  });

  it('a bad enum value, and a caption that disagrees with its id', () => {
    const event = denied();
    event['disposition_id'] = 77;
    assertProblem(
      event,
      'disposition_id',
      /^enum value 77 is not one of 0 \(Unknown\), 1 \(Allowed\), 2 \(Blocked\)/,
    );
    const caption = denied();
    caption['action'] = 'Allowed';
    assertProblem(caption, 'action', /^"Allowed" is not the caption of 2: "Denied"$/);
  });

  it('a wrong type_uid', () => {
    const event = denied();
    event['type_uid'] = 400101;
    assertProblem(
      event,
      'type_uid',
      /^expected class_uid 4001 \* 100 \+ activity_id 5 = 400105, got number 400101$/,
    );
  });

  it('a wrong category, and an unknown class', () => {
    const event = denied();
    event['category_uid'] = 1;
    assertProblem(event, 'category_uid', /^enum value 1 is not one of 4 \(Network Activity\)$/);
    const unknown = denied();
    unknown['class_uid'] = 4999;
    assert.deepEqual(ocsfProblems(unknown), [
      { path: 'class_uid', message: 'no OCSF 1.8.0 class has uid number 4999' },
    ]);
  });

  it('unknown attributes anywhere but unmapped', () => {
    const event = denied();
    event['bundle_id'] = bundle.id;
    event['actor']['user']['shoe_size'] = 44;
    event['unmapped']['paddock']['anything'] = { goes: [1, 'two'] };
    assert.deepEqual(ocsfProblems(event), [
      { path: 'actor.user.shoe_size', message: 'unknown attribute: not defined in object "user"' },
      { path: 'bundle_id', message: 'unknown attribute: not defined in class "network_activity"' },
    ]);
  });

  it('profile attributes without the profile, an unknown profile, a wrong version', () => {
    const event = denied();
    event['metadata']['profiles'] = ['security_control', 'no_such_profile'];
    event['metadata']['version'] = '1.7.0';
    assertProblem(
      event,
      'actor',
      /^attribute belongs to profile "host", which metadata.profiles does not list$/,
    );
    assertProblem(event, 'metadata.profiles[1]', /^no OCSF 1.8.0 profile is named "no_such_profile"$/);
    assertProblem(event, 'metadata.version', /^expected "1.8.0", got string "1.7.0"$/);
  });

  it('constraints and deprecated attributes', () => {
    const event = denied();
    delete event['src_endpoint'];
    delete event['dst_endpoint'];
    event['proxy'] = { hostname: 'gateway' };
    assertProblem(
      event,
      '(event)',
      /^class "network_activity" needs at least one of: dst_endpoint, src_endpoint$/,
    );
    assertProblem(event, 'proxy', /^attribute is deprecated in OCSF 1.8.0$/);
    const exec = structuredClone(
      execDecisionEvent({ ...agent, decision: 'allow', reasonCode: 'ok', bundle, argv: ['ls'] }),
    ) as Mutable;
    delete exec['process']['uid'];
    assertProblem(exec, 'process', /^object "process" needs at least one of: pid, uid, cpid$/);
  });
});

describe('runtime dev check', () => {
  it('is off unless PADDOCK_OCSF_SCHEMA_DIR names a schema', () => {
    assert.equal(ocsfEventCheckFromEnv({}), undefined);
  });

  it('passes valid events and throws PDK_AUDIT_EVENT_INVALID with every problem otherwise', () => {
    const check = ocsfEventCheckFromEnv({ PADDOCK_OCSF_SCHEMA_DIR: fileURLToPath(OCSF_SCHEMA_DIR) });
    assert.ok(check);
    check(denied());
    const event = denied();
    event['category_uid'] = 1;
    assert.throws(
      () => check(event),
      (error: { code: string; message: string; details: { problems: unknown } }) => {
        assert.equal(error.code, 'PDK_AUDIT_EVENT_INVALID');
        assert.equal(error.message, 'audit event egress.denied is not valid OCSF 1.8.0: 1 problem(s)');
        assert.deepEqual(error.details.problems, [
          { path: 'category_uid', message: 'enum value 1 is not one of 4 (Network Activity)' },
        ]);
        return true;
      },
    );
  });
});
