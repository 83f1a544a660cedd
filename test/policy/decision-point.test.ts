import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compilePolicyBundle,
  createDecisionPoint,
  type DecisionRequest,
  REQUEST_LIMITS,
} from '../../src/policy/index.ts';
import { Memo } from '../../src/policy/pdp/decision-point.ts';
import { exampleBundles, exampleDecisionPoint } from './pdp-fixtures.ts';

// The decision point around the engines: malformed requests refused with their own reason, the
// principal and its groups, the memo, the choice of path, cross-checks, and never a throw.

const bundleWith = (extra: string) =>
  compilePolicyBundle({
    blueprint: { name: 'demo', version: '2.0.0', commands: { allow: ['git *'] } },
    protectedPaths: { top: [], anyDepth: [] },
    extraPolicies: [{ file: 'policies/x.cedar', text: extra }],
  });

describe('createDecisionPoint', () => {
  it('refuses malformed requests with a reason and detail, before any policy', async () => {
    const pdp = await exampleDecisionPoint('coding-agent');
    const cases: [unknown, string][] = [
      [{ action: 'exec', argv: [] }, 'request_invalid'],
      [{ action: 'exec', argv: ['git', 3] }, 'request_invalid'],
      [{ action: 'exec', argv: ['git', 'a\0b'] }, 'request_invalid'],
      [{ action: 'exec', argv: ['', 'x'] }, 'request_invalid'],
      [{ action: 'exec', argv: Array(REQUEST_LIMITS.argvWords + 1).fill('a') }, 'request_too_large'],
      [{ action: 'exec', argv: ['echo', 'x'.repeat(REQUEST_LIMITS.commandChars)] }, 'request_too_large'],
      [{ action: 'exec', argv: ['git', '\ud800'] }, 'request_invalid'],
      [{ action: 'read_file', path: 'relative' }, 'path_invalid'],
      [{ action: 'read_file', path: '/workspace/' }, 'path_invalid'],
      [{ action: 'write_file', path: '/workspace/a/../b' }, 'path_invalid'],
      [{ action: 'write_file', path: 42 }, 'path_invalid'],
      [{ action: 'connect', host: 'api.github.com', port: 0 }, 'request_invalid'],
      [{ action: 'connect', host: 'api.github.com', port: '443' }, 'request_invalid'],
      [{ action: 'connect', host: '2130706433', port: 443 }, 'host_invalid'],
      [{ action: 'connect', host: 'a/b.com', port: 443 }, 'host_invalid'],
      [{ action: 'http_request', method: 'get', url: 'https://api.github.com/' }, 'request_invalid'],
      [{ action: 'http_request', method: 'GET', url: 'https://user@api.github.com/' }, 'request_invalid'],
      [{ action: 'http_request', method: 'GET', url: 'ftp://api.github.com/' }, 'request_invalid'],
      [{ action: 'http_request', method: 'GET', url: 'https://api.github.com/a%2fb' }, 'path_ambiguous'],
      [{ action: 'http_request', method: 'GET', url: 'https://api.github.com//a' }, 'path_ambiguous'],
      [
        { action: 'http_request', method: 'GET', host: 'api.github.com', port: 443, path: '/a b' },
        'request_invalid',
      ],
      [{ action: 'mcp_call', server: 'git/hub', tool: 'x' }, 'request_invalid'],
      [{ action: 'mcp_call', server: 'github', tool: '' }, 'request_invalid'],
      [
        {
          action: 'mcp_call',
          server: 'github',
          tool: 'x',
          arguments: { big: 'x'.repeat(REQUEST_LIMITS.argumentsChars) },
        },
        'request_too_large',
      ],
      [{ action: 'mcp_call', server: 'github', tool: 'x', arguments: 10n }, 'request_invalid'],
      [{ action: 'delete_everything' }, 'request_invalid'],
      [null, 'request_invalid'],
      [{ action: 'exec', argv: ['ls'], principal: { session: '', user: 'u' } }, 'request_invalid'],
    ];
    for (const [request, reason] of cases) {
      const decision = pdp.decide(request as DecisionRequest);
      assert.equal(
        decision.decision,
        'deny',
        JSON.stringify(request, (_, v) => (typeof v === 'bigint' ? 'big' : v)),
      );
      assert.equal(decision.reason, reason, String((request as { action?: string } | null)?.action));
      assert.deepEqual(decision.policyIds, []);
      assert.equal(typeof decision.detail, 'string');
      assert.deepEqual(decision.bundle, pdp.bundle);
    }
  });

  it('decides for the principal given, its user and its groups', () => {
    const bundle = bundleWith(
      'forbid (principal in Group::"contractors", action == Action::"exec", resource) when { context.args.contains("push") };\n' +
        'forbid (principal == AgentSession::"quarantined", action, resource);\n' +
        'forbid (principal in User::"mallory", action, resource);',
    );
    const pdp = createDecisionPoint(bundle, {
      principal: { session: 's', user: 'alice', groups: ['staff'] },
    });
    const push = { action: 'exec', argv: ['git', 'push'] } as const;
    assert.equal(pdp.decide(push).decision, 'allow');
    const contractor = pdp.decide({
      ...push,
      principal: { session: 's', user: 'bob', groups: ['contractors'] },
    });
    assert.deepEqual([contractor.decision, contractor.policyIds], ['deny', ['extra:policies/x.cedar#0']]);
    assert.equal(
      pdp.decide({ ...push, principal: { session: 'quarantined', user: 'alice' } }).reason,
      'policy_forbidden',
    );
    assert.equal(pdp.decide({ ...push, principal: { session: 's', user: 'mallory' } }).decision, 'deny');
  });

  it('answers from Cedar the actions whose policies the fast path does not implement', () => {
    const bundle = bundleWith(
      'forbid (principal, action == Action::"connect", resource) when { context.port + 1 == 23 };',
    );
    const pdp = createDecisionPoint(bundle);
    assert.equal(pdp.engines.connect, 'cedar');
    assert.equal(pdp.engines.exec, 'fast');
    assert.throws(() => pdp.decideWith('fast', { action: 'connect', host: 'a.example.com', port: 22 }));
    assert.equal(
      pdp.decide({ action: 'connect', host: 'a.example.com', port: 22 }).reason,
      'policy_forbidden',
    );
    assert.equal(createDecisionPoint(bundle, { engine: 'cedar' }).engines.exec, 'cedar');
  });

  it('memoizes decisions per principal and request, and the memo is bounded', async () => {
    const pdp = await exampleDecisionPoint('code-review');
    const request = { action: 'exec', argv: ['git', 'status'] } as const;
    const first = pdp.decide(request);
    assert.equal(pdp.decide(request), first, 'the same frozen object');
    assert.ok(Object.isFrozen(first));
    const other = pdp.decide({ ...request, principal: { session: 'other', user: 'x' } });
    assert.notEqual(other, first);
    const memo = new Memo<number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.get('a');
    memo.set('c', 3);
    assert.deepEqual([memo.get('a'), memo.get('b'), memo.get('c'), memo.size], [1, undefined, 3, 2]);
    const none = new Memo<number>(0);
    none.set('a', 1);
    assert.equal(none.get('a'), undefined);
  });

  it('cross-checks fast answers against Cedar and never reports a mismatch on the examples', async () => {
    const mismatches: unknown[] = [];
    const { bundle } = (await exampleBundles()).get('ticket-triage')!;
    const pdp = createDecisionPoint(bundle, {
      crossCheckEvery: 1,
      memoEntries: 0,
      onMismatch: (m) => mismatches.push(m),
    });
    for (const path of ['/workspace/a', '/workspace/.zshrc', '/etc/x', '/workspace/.git/hooks/x'])
      for (const action of ['read_file', 'write_file'] as const) pdp.decide({ action, path });
    assert.deepEqual(mismatches, []);
  });

  it('turns a review gate on a connection into a deny', () => {
    const bundle = bundleWith(
      'permit (principal, action == Action::"connect", resource);\n@review("required") permit (principal, action == Action::"connect", resource);',
    );
    const decision = createDecisionPoint(bundle).decide({
      action: 'connect',
      host: 'example.com',
      port: 443,
    });
    assert.deepEqual([decision.decision, decision.reason], ['deny', 'review_unsupported']);
  });

  it('never throws: a failure inside is deny engine_error, reported to onEngineError', async () => {
    const { bundle } = (await exampleBundles()).get('code-review')!;
    const errors: unknown[] = [];
    const pdp = createDecisionPoint(bundle, { onEngineError: (error) => errors.push(error) });
    const hostile = {
      action: 'exec',
      get argv(): string[] {
        throw new Error('internal detail');
      },
    } as DecisionRequest;
    const decision = pdp.decide(hostile);
    assert.deepEqual(
      [decision.decision, decision.reason, decision.detail],
      ['deny', 'engine_error', 'the policy engine failed on this request'],
    );
    assert.equal((errors[0] as Error).message, 'internal detail');
  });

  it('never lets a review gate allow on its own', () => {
    const bundle = bundleWith(
      '@review("required") permit (principal, action == Action::"mcp_call", resource);',
    );
    const decision = createDecisionPoint(bundle).decide({ action: 'mcp_call', server: 'github', tool: 'x' });
    assert.deepEqual(
      [decision.decision, decision.reason, decision.policyIds],
      ['deny', 'tool_not_allowed', []],
    );
  });
});
