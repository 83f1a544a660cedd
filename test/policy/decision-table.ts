import assert from 'node:assert/strict';
import { it } from 'node:test';
import { requestFromResource } from '../../src/cli/commands/policy-resource.ts';
import type { DecisionKind, DecisionRequest } from '../../src/policy/index.ts';
import { type ExampleBlueprint, exampleDecisionPoint } from './pdp-fixtures.ts';

// One row of a decision table: an action on a resource (typed as for `paddock policy explain`,
// or a request object when the argv or fields need to be exact), and the expected decision,
// reason and determining policies. Every row is checked on both paths (fast and Cedar) and
// through decide().

export type Row = readonly [
  action: string,
  resource: string | DecisionRequest,
  decision: DecisionKind,
  reason: string,
  policyIds?: readonly string[],
];

function label(row: Row): string {
  const resource = typeof row[1] === 'string' ? row[1] : JSON.stringify(row[1]);
  return `${row[0]} ${resource} → ${row[2]} (${row[3]})`;
}

/** Registers one test per row against the example blueprint's bundle. */
export function decisionTable(blueprint: ExampleBlueprint, rows: readonly Row[]): void {
  const pdp = exampleDecisionPoint(blueprint, { crossCheckEvery: 1 });
  for (const row of rows) {
    it(label(row), async () => {
      const point = await pdp;
      const [action, resource, decision, reason, policyIds = []] = row;
      const request = typeof resource === 'string' ? requestFromResource(action, resource) : resource;
      const expected = { decision, reason, policyIds };
      for (const engine of ['fast', 'cedar'] as const) {
        const got = point.decideWith(engine, request);
        assert.deepEqual(
          { decision: got.decision, reason: got.reason, policyIds: got.policyIds },
          expected,
          `${engine} path`,
        );
      }
      const decided = point.decide(request);
      assert.deepEqual(
        { decision: decided.decision, reason: decided.reason, policyIds: decided.policyIds },
        expected,
      );
      assert.deepEqual(decided.bundle, point.bundle);
    });
  }
}
