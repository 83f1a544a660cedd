import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizePreparsed, policyToJson, preparsePolicySet } from '../../src/policy/cedar/wasm.ts';
import { EVALUATION_FAILED, type EvalEnv, entityOf } from '../../src/policy/pdp/compile-expression.ts';
import { compilePolicy } from '../../src/policy/pdp/compile-policy.ts';
import { preparePrincipal } from '../../src/policy/pdp/principal.ts';
import { recordOf, SetValue, toCedarJson, type Value } from '../../src/policy/pdp/values.ts';
import { random } from './request-generator.ts';

// The compiled closures against Cedar, construct by construct, without a schema: unvalidated
// policies reach the runtime type errors a validated bundle never shows (a missing attribute,
// `like` on a Long, a non-boolean under `&&`), and each must be an error in both, not a guess.
// For every random context, the set of satisfied policies and the set of erroring ones agree.

const POLICIES = [
  'context.s like "a*b"',
  'context.s like "a\\*b*"',
  'context.s like "*"',
  'context.s like ""',
  'context.n like "*"',
  'context.n < 5',
  'context.n >= 3 && context.n <= 5',
  'context.s < 5',
  'context.flag && context.s == "ab"',
  'context.s && true',
  'context.flag || context.missing == 1',
  'context.n >= 0 || context.missing == 1',
  'context.missing == 1',
  'context has missing',
  'context has rec',
  'context has rec.inner',
  'context.rec has inner',
  'context.rec.inner == 1',
  'principal in Group::"g1"',
  'principal in User::"u1"',
  'principal in [Group::"g2", Blueprint::"other"]',
  'principal is AgentSession',
  'principal is User',
  'principal is AgentSession in Group::"g1"',
  'context.s in Group::"g1"',
  'principal.x == 1',
  'principal has x',
  'resource in Command::"c1"',
  'resource == Command::"c1"',
  'if context.flag then context.s == "ab" else context.n > 1',
  'if context.s then true else false',
  'context.set.contains("a")',
  'context.set.containsAll(["a", "b"])',
  'context.set.containsAny(["z", "c"])',
  'context.set.isEmpty()',
  'context.s.contains("a")',
  '[1, 2] == [2, 1, 1]',
  'context.rec == {"inner": 1}',
  '{"a": [context.n]} == {"a": [3, 3]}',
  'context.set.contains(context.n)',
  '!context.flag',
  '!context.s',
  'context.s != "ab"',
  '1 != "1"',
  'principal == AgentSession::"s1"',
  'action == Action::"exec"',
  'action in [Action::"exec", Action::"connect"]',
  '[context.s, "ab"].contains("ab")',
].map(
  (condition, index) => [`p${index}`, `permit (principal, action, resource) when { ${condition} };`] as const,
);

/** Conditions whose outcome the text fixes (always an error, always true, …). */
const CONSTANT = new Set([
  'context.missing == 1',
  'context has missing',
  'principal.x == 1',
  'principal has x',
  '[1, 2] == [2, 1, 1]',
  '1 != "1"',
  'principal is AgentSession',
  'principal is User',
  'context.s in Group::"g1"',
  'context.s.contains("a")',
]);

const CONDITIONS = new Map<string, string>(
  POLICIES.map(([id, text]) => [id, /when \{ (.*) \};$/u.exec(text)![1]!]),
);

const EXTRA = [
  ['q0', 'permit (principal in Group::"g1", action, resource) unless { context.flag };'],
  [
    'q1',
    'permit (principal, action == Action::"exec", resource == Command::"c1") when { true } unless { context.n > 4 };',
  ],
  ['q2', 'permit (principal is AgentSession in User::"u1", action, resource);'],
] as const;

function randomContext(next: () => number): Record<string, Value> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const entries: [string, Value][] = [];
  if (next() < 0.9)
    entries.push(['s', pick(['ab', 'a*b', 'axxb', '', 'a', 'b', 'a\\b', 'a*bc', 3 as Value, true as Value])]);
  if (next() < 0.9) entries.push(['n', pick([0, 3, 5, 10, -1, 'x' as Value])]);
  if (next() < 0.9) entries.push(['flag', pick([true, false, 'true' as Value])]);
  if (next() < 0.9) {
    const items = ['a', 'b', 'c', 3].filter(() => next() < 0.5) as Value[];
    entries.push(['set', next() < 0.9 ? new SetValue(items) : 'a']);
  }
  const rec = pick([recordOf([['inner', 1]]), recordOf([]), recordOf([['inner', '1']]), undefined, 7]);
  if (rec !== undefined) entries.push(['rec', rec]);
  return Object.fromEntries(entries);
}

describe('fast path semantics against Cedar', () => {
  it('agrees on satisfied and erroring policies over random contexts', () => {
    const texts = Object.fromEntries([...POLICIES, ...EXTRA]);
    const compiled = Object.entries(texts).map(([id, text]) => {
      const policy = compilePolicy(id, policyToJson(text));
      assert.ok(policy, `${id} compiles: ${text}`);
      return policy;
    });
    preparsePolicySet('semantics-test', texts);
    const next = random(7);
    const outcomes = new Map<string, Set<string>>();
    const note = (id: string, outcome: string) =>
      outcomes.set(id, (outcomes.get(id) ?? new Set()).add(outcome));
    for (let round = 0; round < 600; round++) {
      const groups = ['g1', 'g2', 'g3'].filter(() => next() < 0.5);
      const principal = preparePrincipal(
        { session: next() < 0.5 ? 's1' : 's2', user: next() < 0.5 ? 'u1' : 'u2', groups },
        'b',
      );
      const action = next() < 0.5 ? 'exec' : 'read_file';
      const resourceId = next() < 0.5 ? 'c1' : 'c2';
      const context = randomContext(next);
      const env: EvalEnv = {
        principal: principal.entity,
        action: entityOf('Action', action),
        resource: entityOf('Command', resourceId),
        context: recordOf(Object.entries(context)),
        ancestors: (key) => principal.ancestors.get(key) ?? new Set(),
      };
      const satisfied: string[] = [];
      const errored: string[] = [];
      for (const policy of compiled) {
        if (policy.actions && !policy.actions.has(action)) continue;
        try {
          if (policy.test(env)) satisfied.push(policy.id);
        } catch (error) {
          assert.equal(error, EVALUATION_FAILED);
          errored.push(policy.id);
        }
      }
      const answer = authorizePreparsed('semantics-test', {
        principal: principal.cedar.uid,
        action: { type: 'Action', id: action },
        resource: { type: 'Command', id: resourceId },
        context: toCedarJson(recordOf(Object.entries(context))) as Record<string, never>,
        entities: principal.cedar.entities,
      });
      const where = `round ${round}: ${JSON.stringify(toCedarJson(recordOf(Object.entries(context))))} groups ${groups}`;
      assert.deepEqual(
        [...satisfied].sort(),
        answer.allow ? [...answer.reason].sort() : [],
        `satisfied, ${where}`,
      );
      assert.deepEqual([...errored].sort(), [...answer.errored].sort(), `errored, ${where}`);
      for (const policy of compiled) {
        if (policy.actions && !policy.actions.has(action)) continue;
        note(
          policy.id,
          satisfied.includes(policy.id) ? 'true' : errored.includes(policy.id) ? 'error' : 'false',
        );
      }
    }
    // Each policy must have been seen in more than one outcome (else it proved little),
    // but for the few whose answer is fixed by their text.
    for (const [id, seen] of outcomes) {
      if (CONSTANT.has(CONDITIONS.get(id)!)) continue;
      assert.ok(seen.size > 1, `${id} (${texts[id]}) only ever ${[...seen]}`);
    }
    assert.ok(
      [...outcomes.values()].filter((seen) => seen.has('error')).length >= 12,
      'errors were exercised',
    );
  });

  it('matches `like` exactly on random patterns, literal stars and backslashes included', () => {
    const next = random(11);
    const alphabet = ['a', 'b', '*', '\\*', ' '];
    const patterns = Array.from({ length: 60 }, () =>
      Array.from(
        { length: Math.floor(next() * 6) },
        () => alphabet[Math.floor(next() * alphabet.length)],
      ).join(''),
    );
    const texts = Object.fromEntries(
      patterns.map((pattern, index) => [
        `l${index}`,
        `permit (principal, action, resource) when { context.s like "${pattern}" };`,
      ]),
    );
    const compiled = Object.entries(texts).map(([id, text]) => compilePolicy(id, policyToJson(text))!);
    preparsePolicySet('like-test', texts);
    const principal = preparePrincipal({ session: 's', user: 'u' }, 'b');
    for (let round = 0; round < 300; round++) {
      const s = Array.from(
        { length: Math.floor(next() * 7) },
        () => ['a', 'b', '*', ' '][Math.floor(next() * 4)],
      ).join('');
      const env: EvalEnv = {
        principal: principal.entity,
        action: entityOf('Action', 'exec'),
        resource: entityOf('Command', 'c'),
        context: recordOf([['s', s]]),
        ancestors: () => new Set(),
      };
      const fast = compiled.filter((policy) => policy.test(env)).map((policy) => policy.id);
      const answer = authorizePreparsed('like-test', {
        principal: principal.cedar.uid,
        action: { type: 'Action', id: 'exec' },
        resource: { type: 'Command', id: 'c' },
        context: { s },
        entities: principal.cedar.entities,
      });
      assert.deepEqual(fast.sort(), answer.allow ? [...answer.reason].sort() : [], `"${s}"`);
    }
  });

  it('leaves what it does not implement to Cedar', () => {
    for (const condition of [
      'context.n + 1 > 2',
      'ip("10.0.0.1").isLoopback()',
      'principal.hasTag("x")',
      '-context.n < 0',
    ]) {
      const text = `permit (principal, action, resource) when { ${condition} };`;
      assert.equal(compilePolicy('x', policyToJson(text)), undefined, condition);
    }
  });
});
