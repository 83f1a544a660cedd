import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  DEFAULT_SOURCE,
  requireValidRepository,
  type ResolvedBlueprint,
  type ValidRepository,
} from '../../config/index.ts';
import { PaddockError } from '../../core/index.ts';
import {
  compileReleaseBundle,
  policyInputOf,
  type ReleaseBundle,
  releaseBundleHash,
  serializeReleaseBundle,
} from '../../policy/index.ts';
import type { BundleToRelease, ChannelSettings } from './release-repository.ts';

// Compile: the desired-state repository at one Git commit → one release bundle per blueprint.
// The commit's tree is read from Git's object store (ls-tree + cat-file), never from a working
// tree, and without .gitattributes filters (export-subst would rewrite files), so the same
// commit always yields the same bytes, whoever compiles it and wherever.
//
// Public API (stable; the reconciler calls these):
//   compileCommit({ repoDir, commit }): Promise<CompiledRelease>
//   compileRepository(repo: ValidRepository, commit: string): CompiledRelease
//   releaseInput(compiled: CompiledBundle): BundleToRelease      (what ReleaseRepository.release takes)
// Errors: PDK_RELEASE_COMPILE (commit unreadable), PDK_CONFIG_INVALID (invalid at that commit),
// PDK_POLICY_PARSE / PDK_POLICY_INVALID (a policy does not compile).

const run = promisify(execFile);

/** One blueprint's compiled bundle. */
export interface CompiledBundle {
  /** The blueprint name (the release target is `NAME.json`). */
  readonly name: string;
  readonly bundle: ReleaseBundle;
  /** The canonical bytes that are signed and shipped. */
  readonly bytes: Uint8Array;
  /** sha256 of `bytes`, hex. */
  readonly sha256: string;
}

/** Every blueprint of a commit, compiled, in name order. */
export interface CompiledRelease {
  /** The full commit id compiled. */
  readonly commit: string;
  readonly bundles: readonly CompiledBundle[];
  /** The release channels paddock.yaml declares at this commit (default canary then stable, threshold 1). */
  readonly channels: readonly ChannelSettings[];
}

/**
 * Compiles every blueprint of `repoDir` (a Git repository, bare or not) at `commit` (any
 * revision git resolves: a sha, a branch, a tag).
 *
 * @example
 * const { commit, bundles } = await compileCommit({ repoDir: './desired-state', commit: 'main' });
 * await repository.release({ channel: 'canary', bundles: bundles.map(releaseInput), signers });
 */
export async function compileCommit(options: {
  readonly repoDir: string;
  readonly commit: string;
}): Promise<CompiledRelease> {
  if (options.commit.startsWith('-'))
    throw new PaddockError('PDK_RELEASE_COMPILE', `refusing revision "${options.commit}": starts with "-"`);
  const commit = await git(options.repoDir, [
    'rev-parse',
    '--verify',
    '--end-of-options',
    `${options.commit}^{commit}`,
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'paddock-compile-'));
  try {
    await extractTree(options.repoDir, commit, dir);
    const repo = await requireValidRepository(dir);
    return compileRepository(repo, commit);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Compiles an already validated repository whose files are under `repo.state.root`, labelled
 * with `commit` (a Git commit id, or `sha256:HEX` of a plain directory). Deterministic.
 */
export function compileRepository(repo: ValidRepository, commit: string): CompiledRelease {
  const policies = [...repo.state.policies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fileHash = memoHash(repo.state.root);
  const bundles = [...repo.blueprints.keys()].sort().map((name) => {
    const resolved = repo.blueprints.get(name) as ResolvedBlueprint;
    const files = new Set<string>([resolved.file]);
    for (const file of resolved.sources.values()) if (file !== DEFAULT_SOURCE) files.add(file);
    for (const [file] of policies) files.add(file);
    const bundle = compileReleaseBundle({
      policy: policyInputOf(resolved.blueprint, policies),
      filesystem: {
        read: resolved.blueprint.spec.dataScope?.read ?? ['/workspace'],
        write: resolved.blueprint.spec.dataScope?.write ?? [],
        deny: resolved.blueprint.spec.dataScope?.deny ?? [],
      },
      ...(resolved.blueprint.spec.reviewGates ? { reviewGates: resolved.blueprint.spec.reviewGates } : {}),
      ...(resolved.blueprint.spec.logging ? { logging: resolved.blueprint.spec.logging } : {}),
      source: { commit, files: [...files].map((path) => ({ path, sha256: fileHash(path) })) },
    });
    const bytes = serializeReleaseBundle(bundle);
    return { name, bundle, bytes, sha256: releaseBundleHash(bytes) };
  });
  const declared = repo.state.platform?.value.spec.releases.channels;
  const channels = declared
    ? declared.map((channel) => ({ name: channel.name, threshold: channel.threshold }))
    : [
        { name: 'canary', threshold: 1 },
        { name: 'stable', threshold: 1 },
      ];
  return { commit, bundles, channels };
}

/** What ReleaseRepository.release takes for a compiled bundle. */
export function releaseInput(compiled: CompiledBundle): BundleToRelease {
  return {
    name: compiled.name,
    bytes: compiled.bytes,
    bundle: {
      id: compiled.bundle.id,
      version: compiled.bundle.version,
      commit: compiled.bundle.source.commit,
    },
  };
}

function memoHash(root: string): (path: string) => string {
  const known = new Map<string, string>();
  return (path) => {
    let hash = known.get(path);
    if (hash === undefined) {
      hash = createHash('sha256')
        .update(readFileSync(join(root, path)))
        .digest('hex');
      known.set(path, hash);
    }
    return hash;
  };
}

async function git(repoDir: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', repoDir, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new PaddockError(
      'PDK_RELEASE_COMPILE',
      `git ${args[0]} in ${repoDir} failed: ${stderr.split('\n').at(-1) || (error as Error).message}`,
      { cause: error },
    );
  }
}

/** Writes the regular files of `commit`'s tree under `dir` (symlinks and submodules are skipped). */
async function extractTree(repoDir: string, commit: string, dir: string): Promise<void> {
  const listing = await git(repoDir, ['ls-tree', '-r', '-z', '--full-tree', commit]);
  const blobs: { path: string; sha: string }[] = [];
  for (const entry of listing.split('\0')) {
    const match = /^(\d{6}) blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (!match || (match[1] !== '100644' && match[1] !== '100755')) continue;
    blobs.push({ path: match[3] as string, sha: match[2] as string });
  }
  const contents = await catBlobs(
    repoDir,
    blobs.map((blob) => blob.sha),
  );
  for (const [index, blob] of blobs.entries()) {
    if (blob.path.split('/').some((part) => part === '..' || part === '.' || part === '')) continue;
    const path = join(dir, blob.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents[index] as Buffer);
  }
}

/** Reads blobs with one `git cat-file --batch`. */
function catBlobs(repoDir: string, shas: readonly string[]): Promise<Buffer[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['-C', repoDir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) =>
      reject(new PaddockError('PDK_RELEASE_COMPILE', `git cat-file failed: ${error.message}`)),
    );
    child.on('close', (code) => {
      if (code !== 0) return reject(new PaddockError('PDK_RELEASE_COMPILE', `git cat-file exited ${code}`));
      const all = Buffer.concat(chunks);
      const out: Buffer[] = [];
      let at = 0;
      for (let index = 0; index < shas.length; index++) {
        const headerEnd = all.indexOf(0x0a, at);
        const [, type, size] = all.subarray(at, headerEnd).toString().split(' ');
        if (type !== 'blob')
          return reject(new PaddockError('PDK_RELEASE_COMPILE', `object ${shas[index]} is not a blob`));
        const length = Number(size);
        out.push(all.subarray(headerEnd + 1, headerEnd + 1 + length));
        at = headerEnd + 1 + length + 1;
      }
      resolvePromise(out);
    });
    child.stdin.end(shas.map((sha) => `${sha}\n`).join(''));
  });
}
