import { PaddockError } from '../core/errors.ts';
import { checkEffectiveBlueprint, checkReferences } from './check-references.ts';
import { type LoadResult, loadRepository } from './load-repository.ts';
import { resolveBlueprints } from './inheritance/resolve-blueprints.ts';
import { compareProblems } from './problem.ts';
import type { ResolvedBlueprint } from './inheritance/resolved-blueprint.ts';
import type { ConfigProblem, DesiredState } from './repository.ts';

/** What validateRepository found: everything loadRepository reports, plus the effective blueprints. */
export interface ValidationResult extends LoadResult {
  /** Blueprints whose whole `extends` chain resolved, by metadata.name, with inheritance applied. */
  readonly blueprints: ReadonlyMap<string, ResolvedBlueprint>;
}

/** A repository without problems: its desired state and every effective blueprint. */
export interface ValidRepository {
  readonly state: DesiredState;
  readonly blueprints: ReadonlyMap<string, ResolvedBlueprint>;
}

/**
 * Loads `dir` and checks it as a whole: every file on its own (see loadRepository),
 * the names documents use for each other, blueprint inheritance (`extends` may only
 * narrow), and the effective blueprints. Resolves with every problem, sorted by
 * file, line and column; the repository is valid when `problems` is empty.
 *
 * Throws PaddockError PDK_CONFIG_NOT_FOUND when `dir` is not a readable directory.
 *
 * @example
 * const { problems } = await validateRepository('./desired-state');
 * if (problems.length > 0) process.exitCode = 1;
 */
export async function validateRepository(dir: string): Promise<ValidationResult> {
  const { state, problems, namesWithProblems } = await loadRepository(dir);
  const found: ConfigProblem[] = [...problems, ...checkReferences(state, namesWithProblems)];
  const { resolved, problems: inheritance } = resolveBlueprints(state);
  addNew(
    found,
    inheritance.filter((problem) => !refersToBrokenFile(state, problem, namesWithProblems)),
  );
  for (const [name, document] of state.blueprints) {
    const effective = resolved.get(name);
    if (effective) {
      addNew(
        found,
        checkEffectiveBlueprint(effective.blueprint, document.file, (path) => effective.locate(path)),
      );
    } else if (document.value.extends === undefined) {
      // Unresolved only because a shared service is missing or broken: without a
      // parent its own spec is what the checks need, so they still run.
      addNew(found, checkEffectiveBlueprint(document.value, document.file, document.locate));
    }
  }
  return { state, problems: found.sort(compareProblems), namesWithProblems, blueprints: resolved };
}

/**
 * validateRepository for programs that need a valid repository to start (the
 * control plane, the reconciler): resolves with the desired state, or throws
 * PaddockError PDK_CONFIG_INVALID whose `details.problems` lists every problem.
 */
export async function requireValidRepository(dir: string): Promise<ValidRepository> {
  const { state, problems, blueprints } = await validateRepository(dir);
  if (problems.length > 0) {
    const files = new Set(problems.map((problem) => problem.file)).size;
    throw new PaddockError(
      'PDK_CONFIG_INVALID',
      `desired-state repository ${state.root} is invalid: ${countProblems(problems.length, files)}`,
      { details: { problems } },
    );
  }
  return { state, blueprints };
}

/** `1 problem in 1 file`, `3 problems in 2 files`. */
export function countProblems(problems: number, files: number): string {
  return `${problems} problem${problems === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
}

const SERVICE_NAME_PATH = /^spec\.services\[(\d+)\]\.name$/;

/**
 * Whether an inheritance `problem` only repeats that a referenced file is broken:
 * an `extends` or service name whose own file is already reported.
 */
function refersToBrokenFile(
  state: DesiredState,
  problem: ConfigProblem,
  namesWithProblems: ReadonlySet<string>,
): boolean {
  const document = [...state.blueprints.values()].find((candidate) => candidate.file === problem.file);
  if (!document) return false;
  if (problem.path === 'extends') return namesWithProblems.has(`Blueprint/${document.value.extends}`);
  const service = SERVICE_NAME_PATH.exec(problem.path);
  const name = service && document.value.spec.services?.[Number(service[1])]?.name;
  return typeof name === 'string' && namesWithProblems.has(`Service/${name}`);
}

/**
 * Adds `extra` to `problems`, except those about a field of a file that already
 * has a problem: the reference checks and inheritance both notice, say, an
 * unknown parent, and the operator needs to read it once.
 */
function addNew(problems: ConfigProblem[], extra: readonly ConfigProblem[]): void {
  const key = (problem: ConfigProblem) => `${problem.file}\0${problem.path}`;
  const reported = new Set(problems.filter((problem) => problem.path !== '').map(key));
  for (const problem of extra) if (problem.path === '' || !reported.has(key(problem))) problems.push(problem);
}
