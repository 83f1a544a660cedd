import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventRedactor, httpDecisionEvent, type OcsfEvent } from '../../../src/audit/index.ts';
import { agent, bundle } from '../event-fixtures.ts';
import { assertValidOcsf } from '../ocsf-schema.ts';

// The exit redaction over whole events: the blueprint's patterns in every string value (not in
// `full` mode), known secret values always (values and keys), and the event stays valid OCSF.

const SECRET = 'ghp_0123456789abcdef0123456789abcdef0123';

function event(reason: string, url = 'https://api.example.com/x'): OcsfEvent {
  return httpDecisionEvent({
    ...agent,
    bundle,
    decision: 'deny',
    reasonCode: 'host_not_allowed',
    reason,
    method: 'GET',
    url,
  });
}

describe('event redaction', () => {
  it('applies the blueprint patterns to every string, case-insensitively with (?i), and keeps the event valid', () => {
    const redact = createEventRedactor({
      logging: { toolArguments: 'redacted', redact: ['(?i)password=\\S+', 'tok-[0-9]+'] },
    });
    const out = redact(
      event('saw PASSWORD=hunter2 and tok-123', 'https://api.example.com/x?password=abc&t=tok-9'),
    );
    assert.equal(out['status_detail'], 'saw [REDACTED] and [REDACTED]');
    assert.ok(!JSON.stringify(out).includes('hunter2'));
    assert.ok(!JSON.stringify(out).includes('tok-9'));
    assertValidOcsf(out);
  });

  it('scrubs known secrets in values and keys even in full mode, where patterns do not apply', () => {
    const redact = createEventRedactor({
      logging: { toolArguments: 'full', redact: ['hunter2'] },
      secrets: [SECRET, 'api'],
    });
    const input = {
      ...event(`header was Bearer ${SECRET}; hunter2`),
      unmapped: { paddock: { [SECRET]: [SECRET] } },
    };
    const out = redact(input as OcsfEvent);
    assert.ok(!JSON.stringify(out).includes(SECRET));
    assert.equal(
      out['status_detail'],
      'header was Bearer [REDACTED]; hunter2',
      'full mode keeps pattern matches',
    );
    assert.deepEqual((out['unmapped'] as { paddock: unknown }).paddock, { '[REDACTED]': ['[REDACTED]'] });
    assert.ok(
      JSON.stringify(out).includes('api.example.com'),
      'secrets shorter than 4 characters are ignored',
    );
  });

  it('replaces a secret that contains another whole, and cuts off nesting an agent could use to exhaust the stack', () => {
    const redact = createEventRedactor({ secrets: ['abcd', 'abcdefgh'] });
    assert.equal(redact(event('x abcdefgh y'))['status_detail'], 'x [REDACTED] y');
    let deep: unknown = 'abcd';
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const out = redact({ ...event('r'), unmapped: { paddock: { deep } } } as OcsfEvent);
    assert.ok(JSON.stringify(out).includes('[REDACTED]'));
    assert.ok(!JSON.stringify(out).includes('abcd'));
  });

  it('is the identity when there is nothing to redact', () => {
    const input = event('plain');
    assert.equal(createEventRedactor({ logging: { toolArguments: 'redacted', redact: [] } })(input), input);
  });
});
