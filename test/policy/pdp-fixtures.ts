import { loadRepository, type ResolvedBlueprint, resolveBlueprint } from '../../src/config/index.ts';
import {
  compilePolicyBundle,
  createDecisionPoint,
  type DecisionPoint,
  type DecisionPointOptions,
  type PolicyBundle,
  type PolicyBundleInput,
} from '../../src/policy/index.ts';
import { policyInputFromBlueprint } from '../../src/supervisor/pdp/index.ts';

// The example platform (examples/platform) compiled into bundles, the way a supervisor does:
// resolve the blueprint, add policies/*.cedar, compile. Shared by the decision tables, the
// differential tests and the benchmark.

export const EXAMPLES = new URL('../../examples/platform/', import.meta.url).pathname;

export const EXAMPLE_BLUEPRINTS = [
  'code-review',
  'coding-agent',
  'coding-base',
  'data-analysis',
  'docs-research',
  'ticket-triage',
] as const;

export type ExampleBlueprint = (typeof EXAMPLE_BLUEPRINTS)[number];

export interface ExampleBundle {
  readonly resolved: ResolvedBlueprint;
  readonly input: PolicyBundleInput;
  readonly bundle: PolicyBundle;
}

let loaded: Promise<Map<string, ExampleBundle>> | undefined;

/** Every example blueprint's bundle (loaded once per test process). */
export function exampleBundles(): Promise<Map<string, ExampleBundle>> {
  loaded ??= (async () => {
    const { state, problems } = await loadRepository(EXAMPLES);
    if (problems.length > 0) throw new Error(`examples/platform has problems: ${JSON.stringify(problems)}`);
    const bundles = new Map<string, ExampleBundle>();
    for (const name of EXAMPLE_BLUEPRINTS) {
      const resolved = resolveBlueprint(state, name);
      const input = policyInputFromBlueprint(resolved, state.policies);
      bundles.set(name, { resolved, input, bundle: compilePolicyBundle(input) });
    }
    return bundles;
  })();
  return loaded;
}

/** The decision point of one example blueprint. */
export async function exampleDecisionPoint(
  name: ExampleBlueprint,
  options: DecisionPointOptions = {},
): Promise<DecisionPoint> {
  const example = (await exampleBundles()).get(name)!;
  return createDecisionPoint(example.bundle, {
    principal: { session: 'session-1', user: 'alice@example.com', groups: ['engineering'] },
    ...options,
  });
}
