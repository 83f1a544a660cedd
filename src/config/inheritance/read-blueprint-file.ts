import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { checkDocument } from '../check-document.ts';
import { KINDS } from '../kinds.ts';
import { readSourceFile } from '../read-source.ts';
import type { DesiredState, LoadedDocument } from '../repository.ts';
import type { Blueprint } from '../schema/index.ts';

// `paddock blueprint explain ./draft.yaml` explains a blueprint file that may
// not be in the repository yet; its parents still come from the repository.

const BLUEPRINT_KIND = KINDS.find((spec) => spec.kind === 'Blueprint')!;

/** How a file is named in messages and sources: relative to the root when inside it, else as an absolute path. */
function displayName(root: string, file: string): string {
  const inside = relative(root, file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return file;
  return inside.split(sep).join('/');
}

/**
 * Reads and schema-checks one blueprint file with the loader's own safeguards
 * (size limit, no symlinks, safe YAML). `path` is resolved against `cwd`.
 *
 * @throws PaddockError PDK_CONFIG_NOT_FOUND when the file does not exist, or
 *   PDK_CONFIG_INVALID with `details.problems` when it is not a valid blueprint.
 */
export async function readBlueprintFile(
  root: string,
  path: string,
  cwd: string,
): Promise<LoadedDocument<Blueprint>> {
  const absolute = resolve(cwd, path);
  const file = displayName(root, absolute);
  const found = await stat(absolute).catch(() => undefined);
  if (!found) throw new PaddockError('PDK_CONFIG_NOT_FOUND', `blueprint file ${file} not found`);
  const source = await readSourceFile(dirname(absolute), basename(absolute));
  const problems = 'problem' in source ? [{ ...source.problem, file }] : [];
  if ('text' in source) {
    const checked = checkDocument<Blueprint>(file, source.text, BLUEPRINT_KIND);
    if (checked.document) return checked.document;
    problems.push(...checked.problems);
  }
  throw new PaddockError('PDK_CONFIG_INVALID', `${file} is not a valid blueprint`, { details: { problems } });
}

/**
 * The desired state with `document` standing in for the repository's blueprint of
 * the same name (or added, when the repository has none of that name).
 */
export function withBlueprint(state: DesiredState, document: LoadedDocument<Blueprint>): DesiredState {
  const blueprints = new Map(state.blueprints);
  blueprints.set(document.value.metadata.name, document);
  return { ...state, blueprints };
}
