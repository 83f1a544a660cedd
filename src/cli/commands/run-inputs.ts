import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type Blueprint,
  type DesiredState,
  type LoadResult,
  type ResolvedBlueprint,
  readBlueprintFile,
  resolveBlueprint,
  withBlueprint,
} from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { OptionalSandboxFeature, SandboxLimits } from '../../supervisor/index.ts';

// What `paddock run` takes from the desired-state directory: the effective blueprint (its
// `extends` chain applied), the sandbox layers it waives, and the limits of the profile named
// with --profile. Split from run.ts so each rule has a test without launching a sandbox.

/** A blueprint name is a DNS label; anything else is a file path (as in `blueprint explain`). */
const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface RunBlueprint {
  /** The effective blueprint: every spec field from the nearest blueprint of the chain that sets it. */
  readonly blueprint: Blueprint;
  /** The resolution behind it (chain, field sources), for the policy bundle. */
  readonly resolved: ResolvedBlueprint;
  /**
   * Layers the sandbox may start without: the RESOLVED blueprint's spec.sandbox.allowMissing,
   * so a child inherits its parent's waiver, and resolution has already refused a child that
   * adds one its parent lacks (docs/blueprints.md). Empty: every layer required.
   */
  readonly waived: readonly OptionalSandboxFeature[];
  /** The blueprint file's absolute path, when the target was a file (it must stay read-only inside). */
  readonly file?: string;
}

/**
 * Resolves `target` (a metadata.name in the desired state, or a path to a blueprint file whose
 * parents come from the desired state) to the blueprint `paddock run` enforces.
 * @throws PaddockError PDK_BLUEPRINT_NOT_FOUND, PDK_BLUEPRINT_WIDENS, … (resolveBlueprint's)
 * @example (await loadRunBlueprint('code-review', await loadRepository(dir), cwd)).waived // []
 */
export async function loadRunBlueprint(
  target: string,
  loaded: LoadResult,
  cwd: string,
): Promise<RunBlueprint> {
  const { state } = loaded;
  if (BLUEPRINT_NAME.test(target) && !existsSync(resolve(cwd, target))) {
    const resolved = resolveBlueprint(state, target);
    const { blueprint } = resolved;
    return { blueprint, resolved, waived: blueprint.spec.sandbox?.allowMissing ?? [] };
  }
  const document = await readBlueprintFile(state.root, target, cwd);
  const resolved = resolveBlueprint(withBlueprint(state, document), document.value.metadata.name);
  const { blueprint } = resolved;
  return {
    blueprint,
    resolved,
    waived: blueprint.spec.sandbox?.allowMissing ?? [],
    file: resolve(cwd, target),
  };
}

/**
 * The sandbox limits of profile `name` (its spec.limits; memoryMiB defaults to the profile's
 * size.memoryMiB, as the schema documents). Without a profile the caller uses the standalone
 * defaults (DEFAULT_SANDBOX_LIMITS).
 * @throws PaddockError PDK_PROFILE_NOT_FOUND, or PDK_CONFIG_INVALID when its file has problems
 * @example profileLimits(loaded, 'small') // { processes: 256, openFiles: 2048, memoryMiB: 2048 }
 */
export function profileLimits(loaded: LoadResult, name: string): SandboxLimits {
  const profile = loaded.state.profiles.get(name);
  if (!profile) {
    if (loaded.namesWithProblems.has(`Profile/${name}`)) {
      throw new PaddockError(
        'PDK_CONFIG_INVALID',
        `profile "${name}" has problems in ${loaded.state.root}; run \`paddock validate\` there for the list`,
      );
    }
    throw new PaddockError(
      'PDK_PROFILE_NOT_FOUND',
      `profile "${name}" not found (${knownProfiles(loaded.state)})`,
    );
  }
  const { limits, size } = profile.value.spec;
  return {
    processes: limits.processes,
    openFiles: limits.openFiles,
    memoryMiB: limits.memoryMiB ?? size.memoryMiB,
  };
}

function knownProfiles(state: DesiredState): string {
  const known = [...state.profiles.keys()].sort();
  if (known.length === 0) return `${state.root} has no profiles/`;
  return `known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`;
}
