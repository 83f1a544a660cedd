import { type ConfigProblem, countProblems, type LoadResult, loadRepository } from '../config/index.ts';
import { PaddockError } from '../core/errors.ts';
import type { CommandContext } from './command.ts';
import { resolveConfigDir } from './config-dir.ts';

/** `3 problems in 2 files`. */
export function describeProblems(problems: readonly ConfigProblem[]): string {
  return countProblems(problems.length, new Set(problems.map((problem) => problem.file)).size);
}

/**
 * Loads the desired state for a command that explains one blueprint. A broken file in
 * `folders` is left out of the state, which would make the answer wrong (an "unknown
 * parent") rather than merely incomplete, so such problems refuse the command
 * (PDK_CONFIG_INVALID, each problem listed); problems elsewhere are returned.
 */
export async function loadStateFor(
  ctx: CommandContext,
  folders: readonly string[],
  subject: string,
): Promise<LoadResult> {
  const loaded = await loadRepository(resolveConfigDir(ctx));
  const relevant = loaded.problems.filter((problem) =>
    folders.some((folder) => problem.file.startsWith(folder)),
  );
  if (relevant.length > 0) {
    throw new PaddockError(
      'PDK_CONFIG_INVALID',
      `desired-state repository ${loaded.state.root} has ${describeProblems(relevant)} that ${subject} may depend on`,
      { details: { problems: relevant } },
    );
  }
  return loaded;
}
