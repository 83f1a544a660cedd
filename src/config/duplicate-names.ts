import { problemAt } from './problem.ts';
import type { ConfigProblem, LoadedDocument } from './repository.ts';

// Names are how documents refer to each other (assignments name profiles and
// blueprints, blueprints name services and parents), so within a kind each
// metadata.name must be unique. File names do not have to match it.

/**
 * Indexes `documents` by metadata.name. A name seen again is a problem at the
 * later file's metadata.name, naming the file that has it first; the first keeps the name.
 */
export function indexByName<T extends { readonly metadata: { readonly name: string } }>(
  noun: string,
  documents: readonly LoadedDocument<T>[],
): { byName: Map<string, LoadedDocument<T>>; problems: ConfigProblem[] } {
  const byName = new Map<string, LoadedDocument<T>>();
  const problems: ConfigProblem[] = [];
  for (const document of documents) {
    const name = document.value.metadata.name;
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, document);
      continue;
    }
    const where = first.locate(['metadata', 'name']);
    problems.push(
      problemAt(
        document.locate(['metadata', 'name']),
        ['metadata', 'name'],
        `duplicate ${noun} name "${name}": ${where.file}:${where.line}:${where.column} already defines it; rename one of them`,
      ),
    );
  }
  return { byName, problems };
}
