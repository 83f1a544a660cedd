import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PaddockError } from '../core/errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { KINDS, type KindSpec, YAML_EXTENSIONS } from './kinds.ts';
import { fileProblem } from './problem.ts';
import type { ConfigProblem } from './repository.ts';

// Finds the files of a desired-state directory (DESIGN.md §3) without reading
// them: which file holds which kind, the Cedar policies, and layout mistakes such
// as a missing paddock.yaml or a `blueprint/` folder that would be silently ignored.

export const POLICIES_FOLDER = 'policies';
export const POLICY_EXTENSION = '.cedar';

/**
 * The entries of a desired-state directory that carry policy: a sandbox whose scope includes
 * the repository binds these read-only, so an agent cannot edit the rules it runs under.
 */
export const POLICY_ENTRIES: readonly string[] = [
  'paddock.yaml',
  'paddock.yml',
  'blueprints',
  'profiles',
  'services',
  'assignments.yaml',
  POLICIES_FOLDER,
];

export interface RepositoryLayout {
  /** Desired-state YAML files (relative to the root, `/`-separated) and the kind each must hold. */
  readonly documents: { readonly file: string; readonly spec: KindSpec }[];
  /** policies/*.cedar files, relative to the root. */
  readonly policies: string[];
  readonly problems: ConfigProblem[];
}

const isYaml = (name: string) => YAML_EXTENSIONS.some((ext) => name.endsWith(ext));

/** Lists the layout of `root` (absolute). Throws PDK_CONFIG_NOT_FOUND when it is not a readable directory. */
export async function scanRepository(root: string): Promise<RepositoryLayout> {
  const entries = await readRoot(root);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const layout: RepositoryLayout = { documents: [], policies: [], problems: [] };

  for (const spec of KINDS) {
    const location = spec.location;
    if ('file' in location) {
      const present = YAML_EXTENSIONS.map((ext) => `${location.file}${ext}`).filter((name) =>
        byName.has(name),
      );
      const [chosen, ...extra] = present;
      for (const name of extra) {
        layout.problems.push(fileProblem(name, `both ${chosen} and ${name} exist; keep only ${chosen}`));
      }
      if (chosen !== undefined) layout.documents.push({ file: chosen, spec });
      else if (spec.kind === 'Platform') {
        layout.problems.push(
          fileProblem(
            'paddock.yaml',
            'file not found: a desired-state directory needs paddock.yaml (kind: Platform) at its root',
          ),
        );
      }
    } else {
      const files = await listFolder(root, byName.get(location.folder), isYaml, layout.problems);
      for (const file of files) layout.documents.push({ file, spec });
    }
  }
  const policies = await listFolder(
    root,
    byName.get(POLICIES_FOLDER),
    (name) => name.endsWith(POLICY_EXTENSION),
    layout.problems,
  );
  layout.policies.push(...policies);
  layout.problems.push(...nearMisses(entries));
  return layout;
}

async function readRoot(root: string): Promise<Dirent[]> {
  try {
    if (!(await stat(root)).isDirectory()) {
      throw new PaddockError('PDK_CONFIG_NOT_FOUND', `desired-state path is not a directory: ${root}`);
    }
    return await readdir(root, { withFileTypes: true });
  } catch (error) {
    if (error instanceof PaddockError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `cannot be read (${code ?? 'error'})`;
    throw new PaddockError('PDK_CONFIG_NOT_FOUND', `desired-state directory ${reason}: ${root}`, {
      cause: error,
    });
  }
}

/** Sorted `folder/name` files in one kind's folder; subfolders and symlinked folders are problems. */
async function listFolder(
  root: string,
  entry: Dirent | undefined,
  wanted: (name: string) => boolean,
  problems: ConfigProblem[],
): Promise<string[]> {
  if (entry === undefined) return []; // every folder is optional
  const folder = entry.name;
  if (entry.isSymbolicLink()) {
    problems.push(
      fileProblem(`${folder}/`, 'is a symbolic link; Paddock reads only folders inside this repository'),
    );
    return [];
  }
  if (!entry.isDirectory()) {
    problems.push(
      fileProblem(folder, `must be a folder of ${folder === POLICIES_FOLDER ? '.cedar' : 'YAML'} files`),
    );
    return [];
  }
  let children: Dirent[];
  try {
    children = await readdir(join(root, folder), { withFileTypes: true });
  } catch (error) {
    problems.push(fileProblem(`${folder}/`, `cannot be read: ${(error as Error).message}`));
    return [];
  }
  const files: string[] = [];
  for (const child of children) {
    // Dotfiles are editor and tool leftovers (.#x.yaml, .x.yaml.swp), not documents.
    if (child.name.startsWith('.')) continue;
    if (child.isDirectory()) {
      problems.push(
        fileProblem(
          `${folder}/${child.name}/`,
          `subfolders of ${folder}/ are not read; move its files up into ${folder}/`,
        ),
      );
    } else if (wanted(child.name)) {
      // Symlinks and other special files are listed too: reading them reports why they are refused.
      files.push(`${folder}/${child.name}`);
    }
  }
  return files.sort();
}

/** Root entries that look like a misspelt part of the layout, which would otherwise be ignored without a word. */
function nearMisses(entries: readonly Dirent[]): ConfigProblem[] {
  const folders = [
    ...KINDS.flatMap((spec) => ('folder' in spec.location ? [spec.location.folder] : [])),
    POLICIES_FOLDER,
  ];
  const files = KINDS.flatMap((spec) => ('file' in spec.location ? [spec.location.file] : []));
  const problems: ConfigProblem[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !folders.includes(entry.name)) {
      const match = didYouMean(entry.name, folders);
      if (match)
        problems.push(
          fileProblem(
            `${entry.name}/`,
            `is not part of the layout and is not read; did you mean "${match}/"?`,
          ),
        );
    } else if (entry.isFile() && isYaml(entry.name)) {
      const stem = entry.name.replace(/\.ya?ml$/, '');
      const match = files.includes(stem) ? undefined : didYouMean(stem, files);
      if (match)
        problems.push(
          fileProblem(entry.name, `is not part of the layout and is not read; did you mean "${match}.yaml"?`),
        );
    }
  }
  return problems;
}
