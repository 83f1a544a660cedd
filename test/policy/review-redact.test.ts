import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRedactPattern } from '../../src/config/index.ts';
import {
  MAX_REDACT_DEPTH,
  REDACTED,
  redactArguments,
  redactResource,
  redactText,
} from '../../src/policy/index.ts';

// What a review request records of a call's arguments, per logging.toolArguments and redact.

const PATTERNS = ['(?i)authorization', '(?i)password', 'ghp_[A-Za-z0-9]{8}'].map(compileRedactPattern);
const ARGS = {
  title: 'Fix login',
  headers: { Authorization: 'Bearer ghp_abcdefgh', Accept: 'application/json' },
  user: { name: 'ada', Password: 'hunter2', tokens: ['ghp_12345678', 'plain'] },
  note: 'token ghp_ABCDEFGH and password reset',
  count: 3,
  ok: true,
  nothing: null,
};

describe('review argument redaction', () => {
  it('records nothing for none, everything for full', () => {
    assert.equal(redactArguments(ARGS, { toolArguments: 'none' }, PATTERNS), undefined);
    assert.equal(redactArguments(ARGS, { toolArguments: 'full' }, PATTERNS), ARGS);
  });

  it('hides the whole value of a matching key and each match inside strings', () => {
    assert.deepEqual(redactArguments(ARGS, { toolArguments: 'redacted' }, PATTERNS), {
      title: 'Fix login',
      headers: { Authorization: REDACTED, Accept: 'application/json' },
      user: { name: 'ada', Password: REDACTED, tokens: [REDACTED, 'plain'] },
      note: `token ${REDACTED} and ${REDACTED} reset`,
      count: 3,
      ok: true,
      nothing: null,
    });
  });

  it('keeps arguments as they are when there are no patterns, and does not change the input', () => {
    const copy = structuredClone(ARGS);
    assert.deepEqual(redactArguments(ARGS, { toolArguments: 'redacted' }, []), ARGS);
    redactArguments(ARGS, { toolArguments: 'redacted' }, PATTERNS);
    assert.deepEqual(ARGS, copy);
  });

  it('redacts scalars and arrays at the top level', () => {
    assert.equal(redactArguments('password=1', { toolArguments: 'redacted' }, PATTERNS), `${REDACTED}=1`);
    assert.deepEqual(redactArguments(['a', 'PASSWORD'], { toolArguments: 'redacted' }, PATTERNS), [
      'a',
      REDACTED,
    ]);
    assert.equal(redactArguments(42, { toolArguments: 'redacted' }, PATTERNS), 42);
  });

  it('stops at a depth an agent could use to exhaust the stack', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < MAX_REDACT_DEPTH + 10; i++) deep = { d: deep };
    let out = redactArguments(deep, { toolArguments: 'redacted' }, PATTERNS) as Record<string, unknown>;
    let depth = 0;
    while (typeof out === 'object') {
      out = out['d'] as Record<string, unknown>;
      depth++;
    }
    assert.equal(out, REDACTED);
    assert.equal(depth, MAX_REDACT_DEPTH);
  });

  it('uses shared global patterns without carrying state between calls', () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(redactArguments({ password: 'x' }, { toolArguments: 'redacted' }, PATTERNS), {
        password: REDACTED,
      });
      assert.equal(redactText('password password', PATTERNS), `${REDACTED} ${REDACTED}`);
    }
  });

  it('redacts the resource unless logging is full', () => {
    const url = 'POST https://api.example.com/login?password=x&t=ghp_abcdefgh';
    assert.equal(redactResource(url, { toolArguments: 'full' }, PATTERNS), url);
    const redacted = `POST https://api.example.com/login?${REDACTED}=x&t=${REDACTED}`;
    assert.equal(redactResource(url, { toolArguments: 'redacted' }, PATTERNS), redacted);
    assert.equal(redactResource(url, { toolArguments: 'none' }, PATTERNS), redacted);
  });
});
