import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/index.ts';

// Canonical JSON decides every record hash: the same value must always serialize the same
// way, before writing and after reading back, and anything JSON would change is refused.

describe('canonicalJson', () => {
  it('sorts members by UTF-16 code units at every depth, without whitespace', () => {
    const value = {
      b: 1,
      a: { z: [3, { y: true, x: null }], é: 'e-acute', A: 'upper', '10': 'ten', '2': 'two' },
    };
    assert.equal(
      canonicalJson(value),
      '{"a":{"10":"ten","2":"two","A":"upper","z":[3,{"x":null,"y":true}],"é":"e-acute"},"b":1}',
    );
  });

  it('matches RFC 8785 for strings and numbers', () => {
    assert.equal(
      canonicalJson('\u0000\b\t\n\f\r"\\/\u001f\u007f€😀'),
      '"\\u0000\\b\\t\\n\\f\\r\\"\\\\/\\u001f\u007f€😀"',
    );
    assert.equal(
      canonicalJson([0, -0, 1e21, 1e-7, 0.1 + 0.2, -5, 2 ** 53 - 1]),
      '[0,0,1e+21,1e-7,0.30000000000000004,-5,9007199254740991]',
    );
  });

  it('round-trips through JSON: undefined members are skipped as JSON skips them', () => {
    const value = { keep: 1, drop: undefined, nested: { drop: undefined, keep: 'x' } };
    assert.equal(canonicalJson(value), canonicalJson(JSON.parse(JSON.stringify(value))));
    assert.equal(canonicalJson(value), '{"keep":1,"nested":{"keep":"x"}}');
  });

  it('refuses values JSON cannot represent exactly', () => {
    const cases: [unknown, RegExp][] = [
      [{ n: Number.NaN }, /at \$\.n is NaN/],
      [{ n: Number.POSITIVE_INFINITY }, /at \$\.n is Infinity/],
      [{ list: [1, undefined] }, /at \$\.list\[1\] is undefined/],
      [{ when: new Date(0) }, /at \$\.when is a Date object/],
      [{ big: 1n }, /at \$\.big is a bigint/],
      [{ fn: () => 1 }, /at \$\.fn is a function/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => canonicalJson(value),
        (error: { code: string; message: string }) => {
          assert.equal(error.code, 'PDK_AUDIT_EVENT_INVALID');
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it('gives the fast and careful paths the same bytes for integer-like keys, __proto__ and shared objects', () => {
    const shared = { b: 1, a: 2 };
    const tricky = JSON.parse('{"z":1,"10":2,"9":3,"__proto__":{"x":1}}');
    assert.equal(canonicalJson(tricky), '{"10":2,"9":3,"__proto__":{"x":1},"z":1}');
    assert.equal(
      canonicalJson({ list: [shared, shared], sorted: { a: [1, { c: null, d: 'x' }] }, gone: undefined }),
      '{"list":[{"a":2,"b":1},{"a":2,"b":1}],"sorted":{"a":[1,{"c":null,"d":"x"}]}}',
    );
    assert.deepEqual(shared, { b: 1, a: 2 }, 'the input is not changed');
  });
});
