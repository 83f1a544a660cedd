import { requireValidRepository } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import {
  type CompiledRelease,
  compileCommit,
  compileRepository,
  type ReleaseRepository,
  releaseInput,
  type Signer,
} from '../releases/index.ts';
import type { ReleaseFunction } from './actions.ts';
import { directoryDigest } from './source.ts';

// The release seam wired to the release module (src/controlplane/releases/): the commit is
// compiled (a Git commit from the repository's object store, so a resumed apply compiles the
// commit it planned, whatever is checked out now; a plain directory only while its files still
// hash to the planned digest), and the whole set is released to one channel. A release that
// waits for more signatures fails the step (PDK_RELEASE_THRESHOLD): the apply stays open and
// resumes once it is co-signed.

export interface ChannelReleaseOptions {
  readonly repository: ReleaseRepository;
  /** Default `canary`: promotion to `stable` is a separate, deliberate act. */
  readonly channel?: string;
  /** Default the repository's key files for the channel. */
  readonly signers?: () => readonly Signer[];
  /** A Git repository (bare or a checkout) holding the commits to compile. */
  readonly gitDir?: string;
  /** A plain desired-state directory (commits `sha256:…`). */
  readonly directory?: string;
  /**
   * The release compiled from the very state a plan was made from (a precheck keeps it): a plain
   * directory may change between the plan and its release step, and holds no history to go back to.
   */
  readonly precompiled?: (commit: string) => CompiledRelease | undefined;
}

async function compile(options: ChannelReleaseOptions, commit: string): Promise<CompiledRelease> {
  if (commit.startsWith('sha256:')) {
    if (!options.directory || (await directoryDigest(options.directory)) !== commit)
      throw new PaddockError(
        'PDK_RELEASE_COMPILE',
        `the directory no longer holds ${commit}: plan and apply again (a directory keeps no history)`,
      );
    return compileRepository(await requireValidRepository(options.directory), commit);
  }
  if (!options.gitDir)
    throw new PaddockError('PDK_RELEASE_COMPILE', `no Git repository to compile commit ${commit} from`);
  return compileCommit({ repoDir: options.gitDir, commit });
}

export function channelRelease(options: ChannelReleaseOptions): ReleaseFunction {
  const channel = options.channel ?? 'canary';
  return async (release) => {
    const compiled = options.precompiled?.(release.commit) ?? (await compile(options, release.commit));
    const planned = release.bundles.map((bundle) => bundle.blueprint).sort();
    const names = compiled.bundles.map((bundle) => bundle.name).sort();
    if (planned.join('\n') !== names.join('\n'))
      throw new PaddockError(
        'PDK_RELEASE_COMPILE',
        `commit ${release.commit} compiles to blueprints ${names.join(', ')}, the plan has ${planned.join(', ')}`,
      );
    const outcome = await options.repository.release({
      channel,
      bundles: compiled.bundles.map(releaseInput),
      signers: options.signers?.() ?? options.repository.defaultSigners(channel),
    });
    if (outcome.status === 'pending')
      throw new PaddockError(
        'PDK_RELEASE_THRESHOLD',
        `the release of ${release.commit} to ${channel} has ${outcome.signatures} of ${outcome.needed} signatures`,
      );
    // Every bundle of the set was published (each carries the commit), so each is audited.
    return compiled.bundles.map((bundle) => ({
      blueprint: bundle.name,
      id: bundle.bundle.id,
      version: bundle.bundle.version,
      channel,
    }));
  };
}
