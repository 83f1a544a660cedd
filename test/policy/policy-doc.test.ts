import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CEDAR_SCHEMA, POLICY_REASONS } from '../../src/policy/index.ts';

// docs/policy.md states the schema and the reason codes operators and policy authors rely on;
// these tests keep it equal to the code.

const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');

describe('docs/policy.md', () => {
  it('shows the schema exactly as the compiler uses it', () => {
    const block = /```cedar\n([\s\S]*?)```/u.exec(doc);
    assert.ok(block, 'a ```cedar block');
    assert.equal(block[1], CEDAR_SCHEMA);
  });

  it('lists every reason code', () => {
    const section = doc.slice(doc.indexOf('## Decisions'), doc.indexOf('## Two paths'));
    const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gmu)].map((match) => match[1]);
    assert.deepEqual(listed, Object.keys(POLICY_REASONS));
  });
});
