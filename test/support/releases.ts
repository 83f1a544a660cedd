import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChannelSettings,
  compileCommit,
  openReleaseRepository,
  type ReleaseRepository,
  releaseInput,
} from '../../src/controlplane/releases/index.ts';
import type { ReleaseFetch } from '../../src/supervisor/policy/index.ts';

// Test support for policy releases: a real Git repository holding the example desired state,
// a real release repository on disk, and a fetch that reads it in process (tests override
// single paths to play an attacker who controls what the supervisor is served).

export const EXAMPLES = fileURLToPath(new URL('../../examples/platform', import.meta.url));

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Policy Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Policy Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

/** Runs git in `dir`; returns its trimmed stdout. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A Git repository holding examples/platform, committed once; returns its directory and commit. */
export function exampleRepository(parent: string): { dir: string; commit: string } {
  const dir = join(parent, 'desired-state');
  cpSync(EXAMPLES, dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial desired state');
  return { dir, commit: git(dir, 'rev-parse', 'HEAD') };
}

/** Commits every change in `dir`; returns the new commit. */
export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A release repository under `dir` with canary (1 signer) and stable (`stableThreshold` signers). */
export async function releaseRepository(
  dir: string,
  options: { stableThreshold?: number; now?: () => Date } = {},
): Promise<ReleaseRepository> {
  const channels: ChannelSettings[] = [
    { name: 'canary', threshold: 1 },
    { name: 'stable', threshold: options.stableThreshold ?? 1 },
  ];
  const repository = openReleaseRepository({ dir, channels, ...(options.now ? { now: options.now } : {}) });
  await repository.ready();
  return repository;
}

/** Compiles `commit` of `repoDir` and releases it to `channel` with the channel's default signers. */
export async function releaseCommit(
  repository: ReleaseRepository,
  repoDir: string,
  commit: string,
  channel = 'canary',
) {
  const compiled = await compileCommit({ repoDir, commit });
  return repository.release({
    channel,
    bundles: compiled.bundles.map(releaseInput),
    signers: repository.defaultSigners(channel),
  });
}

/**
 * A fetch that reads the repository in process, as the channel server would serve it, except
 * for `served` paths: an attacker's bytes (or undefined: the file is withheld).
 */
export function repositoryFetch(
  repository: ReleaseRepository,
  channel: string,
  served: Map<string, Uint8Array | undefined> = new Map(),
): ReleaseFetch & { log: string[] } {
  const log: string[] = [];
  const fetch = async (path: string, maxBytes: number) => {
    log.push(path);
    const bytes = served.has(path) ? served.get(path) : repository.readFile(channel, path);
    return bytes === undefined ? undefined : bytes.subarray(0, maxBytes + 1);
  };
  return Object.assign(fetch, { log });
}
