import { PaddockError } from '../../core/errors.ts';
import type { ConfigProblem, DesiredState } from '../repository.ts';
import { formatFieldPath } from '../repository.ts';
import { checkNarrowing } from './check-narrowing.ts';
import type { MergedBlueprint } from './merge-blueprint.ts';
import { mergeBlueprint } from './merge-blueprint.ts';
import type { CodedProblem, Origins, ResolvedBlueprint } from './resolved-blueprint.ts';
import { deepFreeze } from './resolved-blueprint.ts';

// Walks `extends` chains of any depth. A blueprint resolves only when its whole
// chain does: an unknown parent, a cycle, a widening or a broken service reference
// anywhere above it leaves it unresolved, so nothing downstream (the policy
// compiler, explain) can ever work from a blueprint that failed its checks.

interface Outcome {
  readonly resolved: ResolvedBlueprint | undefined;
  /** Origins of `resolved`'s values, which children copy for the fields they inherit. */
  readonly origins?: Origins;
  /** Problems located in this blueprint's own file. */
  readonly own: readonly CodedProblem[];
  /** Problems of ancestors that keep this blueprint from resolving. */
  readonly inherited: readonly CodedProblem[];
}

function toResolved(name: string, file: string, chain: string[], merged: MergedBlueprint): ResolvedBlueprint {
  const { blueprint, origins } = merged;
  const sources = new Map([...origins].map(([path, origin]) => [path, origin.file]));
  return {
    name,
    file,
    chain,
    blueprint: deepFreeze(blueprint),
    sources,
    locate(path) {
      // The nearest recorded ancestor answers for a path that does not exist.
      for (let length = path.length; length >= 0; length--) {
        const origin = origins.get(formatFieldPath(path.slice(0, length)));
        if (origin) return origin.at();
      }
      return { file, line: 1, column: 1 };
    },
  };
}

function createResolver(state: DesiredState): (name: string) => Outcome {
  const outcomes = new Map<string, Outcome>();
  const stack: string[] = [];

  const recordCycle = (members: string[]): void => {
    // One problem per cycle, at the member that sorts first, so the report does
    // not depend on which blueprint the walk happened to start from.
    const first = [...members].sort()[0]!;
    const start = members.indexOf(first);
    const chain = [...members.slice(start), ...members.slice(0, start), first];
    const doc = state.blueprints.get(first)!;
    const problem: CodedProblem = {
      code: 'PDK_BLUEPRINT_CYCLE',
      problem: {
        ...doc.locate(['extends']),
        path: 'extends',
        message: `inheritance cycle: ${chain.join(' -> ')}`,
      },
    };
    for (const member of members) {
      outcomes.set(member, {
        resolved: undefined,
        own: member === first ? [problem] : [],
        inherited: member === first ? [] : [problem],
      });
    }
  };

  const visit = (name: string): Outcome => {
    const known = outcomes.get(name);
    if (known) return known;
    const onStack = stack.indexOf(name);
    if (onStack !== -1) {
      recordCycle(stack.slice(onStack));
      return outcomes.get(name)!;
    }
    const doc = state.blueprints.get(name)!;
    const parentName = doc.value.extends;
    let parent: { resolved: ResolvedBlueprint; origins: Origins } | undefined;
    if (parentName !== undefined) {
      if (!state.blueprints.has(parentName)) {
        const problem: ConfigProblem = {
          ...doc.locate(['extends']),
          path: 'extends',
          message: `extends unknown blueprint "${parentName}": no file in blueprints/ has metadata.name "${parentName}"`,
        };
        return settle(name, {
          resolved: undefined,
          own: [{ code: 'PDK_BLUEPRINT_NOT_FOUND', problem }],
          inherited: [],
        });
      }
      stack.push(name);
      const above = visit(parentName);
      stack.pop();
      // The walk above may have found this blueprint on a cycle and settled it.
      const settled = outcomes.get(name);
      if (settled) return settled;
      if (!above.resolved)
        return settle(name, { resolved: undefined, own: [], inherited: [...above.inherited, ...above.own] });
      parent = { resolved: above.resolved, origins: above.origins! };
    }
    const own: CodedProblem[] = [];
    const merged = mergeBlueprint(
      state,
      doc,
      parent && { blueprint: parent.resolved.blueprint, origins: parent.origins },
      own,
    );
    if (parent) {
      for (const problem of checkNarrowing(doc, merged.blueprint.spec, parent.resolved)) {
        own.push({ code: 'PDK_BLUEPRINT_WIDENS', problem });
      }
    }
    if (own.length > 0) return settle(name, { resolved: undefined, own, inherited: [] });
    const resolved = toResolved(name, doc.file, [name, ...(parent?.resolved.chain ?? [])], merged);
    return settle(name, { resolved, origins: merged.origins, own, inherited: [] });
  };

  const settle = (name: string, outcome: Outcome): Outcome => {
    outcomes.set(name, outcome);
    return outcome;
  };

  return visit;
}

/**
 * Resolves every blueprint of the desired state.
 *
 * `resolved` holds only blueprints whose whole chain is valid; `problems` lists,
 * once each, every unknown parent, cycle (`inheritance cycle: a -> b -> a`),
 * widening (`spec.services[github].hosts widens parent "coding-base": adds "x"`)
 * and unknown shared service, located in the file that has to change.
 *
 * @example
 * const { resolved, problems } = resolveBlueprints(state);
 * resolved.get('code-review')?.blueprint.spec.services;
 */
export function resolveBlueprints(state: DesiredState): {
  resolved: Map<string, ResolvedBlueprint>;
  problems: ConfigProblem[];
} {
  const visit = createResolver(state);
  const resolved = new Map<string, ResolvedBlueprint>();
  const problems: ConfigProblem[] = [];
  for (const name of [...state.blueprints.keys()].sort()) {
    const outcome = visit(name);
    if (outcome.resolved) resolved.set(name, outcome.resolved);
    for (const { problem } of outcome.own) problems.push(problem);
  }
  return { resolved, problems };
}

/**
 * Resolves one blueprint by `metadata.name`.
 *
 * @throws PaddockError PDK_BLUEPRINT_NOT_FOUND (no such blueprint, or an unknown parent),
 *   PDK_BLUEPRINT_CYCLE, PDK_BLUEPRINT_WIDENS, or PDK_CONFIG_INVALID (a name-only service
 *   with no services/NAME.yaml); the code is that of the first problem, ancestors' first,
 *   and `details.problems` lists them all.
 */
export function resolveBlueprint(state: DesiredState, name: string): ResolvedBlueprint {
  if (!state.blueprints.has(name)) {
    const known = [...state.blueprints.keys()].sort();
    const hint =
      known.length === 0
        ? 'blueprints/ holds none'
        : `known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`;
    throw new PaddockError('PDK_BLUEPRINT_NOT_FOUND', `blueprint "${name}" not found (${hint})`);
  }
  const outcome = createResolver(state)(name);
  if (outcome.resolved) return outcome.resolved;
  const all = [...outcome.inherited, ...outcome.own];
  const first = all[0]!;
  const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
  throw new PaddockError(
    first.code,
    `blueprint "${name}" cannot be resolved: ${first.problem.message}${more}`,
    {
      details: { problems: all.map(({ problem }) => problem) },
    },
  );
}
