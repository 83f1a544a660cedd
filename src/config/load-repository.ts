import { resolve } from 'node:path';
import { checkDocument } from './check-document.ts';
import { indexByName } from './duplicate-names.ts';
import type { KindSpec } from './kinds.ts';
import { capProblems, compareProblems } from './problem.ts';
import { readSourceFile } from './read-source.ts';
import type { ConfigProblem, DesiredState, LoadedDocument } from './repository.ts';
import { scanRepository } from './repository-layout.ts';
import type { Assignments, Blueprint, Platform, Profile, Service } from './schema/index.ts';

/** What loadRepository found: the documents that are valid on their own, and every problem. */
export interface LoadResult {
  readonly state: DesiredState;
  /** Sorted by file, line and column; empty when every file is valid. */
  readonly problems: ConfigProblem[];
  /**
   * `Kind/name` (e.g. `Blueprint/code-review`) for each file that declares a
   * metadata.name but has problems, and so is missing from `state`. Reference
   * checks skip these names: the broken file is already reported, and "no such
   * name" would mislead.
   */
  readonly namesWithProblems: ReadonlySet<string>;
}

/**
 * Reads the desired-state directory `dir` (DESIGN.md §3): paddock.yaml, blueprints/,
 * profiles/, services/, assignments.yaml (`.yml` works too) and policies/*.cedar.
 *
 * Every file is checked on its own (size, encoding, YAML safety, kind, schema) and
 * every problem of every file is returned; a file with any problem is left out of
 * `state`. Names must be unique within a kind. References between documents are
 * not checked here: see validateRepository.
 *
 * Throws PaddockError PDK_CONFIG_NOT_FOUND when `dir` is not a readable directory.
 *
 * @example
 * const { state, problems } = await loadRepository('./desired-state');
 * for (const p of problems) console.error(`${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
 */
export async function loadRepository(dir: string): Promise<LoadResult> {
  const root = resolve(dir);
  const layout = await scanRepository(root);
  const problems: ConfigProblem[] = [...layout.problems];

  const checked = await mapBounded(layout.documents, async ({ file, spec }) => {
    const source = await readSourceFile(root, file);
    if ('problem' in source) return { spec, document: undefined, problems: [source.problem] };
    return { spec, ...checkDocument<unknown>(file, source.text, spec) };
  });
  const valid = (kind: KindSpec['kind']) =>
    checked.flatMap((entry) => (entry.spec.kind === kind && entry.document ? [entry.document] : []));
  const namesWithProblems = new Set<string>();
  for (const [index, entry] of checked.entries()) {
    problems.push(...capProblems(layout.documents[index]!.file, entry.problems));
    if ('declaredName' in entry && entry.declaredName !== undefined) {
      namesWithProblems.add(`${entry.spec.kind}/${entry.declaredName}`);
    }
  }

  const blueprints = indexByName('blueprint', valid('Blueprint') as LoadedDocument<Blueprint>[]);
  const profiles = indexByName('profile', valid('Profile') as LoadedDocument<Profile>[]);
  const services = indexByName('service', valid('Service') as LoadedDocument<Service>[]);
  problems.push(...blueprints.problems, ...profiles.problems, ...services.problems);

  const policies = new Map<string, string>();
  const policySources = await mapBounded(layout.policies, (file) => readSourceFile(root, file));
  for (const [index, source] of policySources.entries()) {
    if ('problem' in source) problems.push(source.problem);
    else policies.set(layout.policies[index]!, source.text);
  }

  const state: DesiredState = {
    root,
    platform: valid('Platform')[0] as LoadedDocument<Platform> | undefined,
    blueprints: blueprints.byName,
    profiles: profiles.byName,
    services: services.byName,
    assignments: valid('Assignments')[0] as LoadedDocument<Assignments> | undefined,
    policies,
  };
  return { state, problems: problems.sort(compareProblems), namesWithProblems };
}

/** Files read at once: enough to overlap I/O, few enough to stay far below open-file limits. */
const READ_CONCURRENCY = 16;

/** `items.map(work)` with at most READ_CONCURRENCY calls in flight; results keep the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
  return results;
}
