import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PaddockError } from '../../core/errors.ts';

// Where the desired state comes from: a Git repository (any URL `git` can fetch: file://, ssh,
// https) checked out at a ref into a cache under the data directory, or a plain directory. The
// commit names what was planned and applied; for a directory that is not a clean Git checkout
// it is a digest of its files (`sha256:…`), so a plan is still tied to exact content.

const run = promisify(execFile);

/** Transports the reconciler lets git use: never `ext::` (runs a command) or other helpers. */
const ALLOWED_PROTOCOLS = 'file:https:ssh:git';

export interface DesiredStateSource {
  /** The directory to load, at `commit`. */
  readonly dir: string;
  /** A Git commit id, or `sha256:<hex>` of a plain directory's files. */
  readonly commit: string;
  /** The commit's author (`Name <email>`), when it is a Git commit. */
  readonly author?: string;
  /** The commit's verified signer (git's %GS), when it is signed and git could verify it. */
  readonly signer?: string;
}

async function git(args: readonly string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run('git', [...args], {
      cwd,
      env: { ...process.env, GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS, GIT_TERMINAL_PROMPT: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new PaddockError(
      'PDK_RECONCILE_SOURCE',
      `git ${args[0]} failed: ${stderr.split('\n').at(-1) || (error as Error).message}`,
      { cause: error },
    );
  }
}

async function commitInfo(
  dir: string,
  commit: string,
): Promise<Pick<DesiredStateSource, 'author' | 'signer'>> {
  const [name, email, good, signer] = (
    await git(['-C', dir, 'log', '-1', '--format=%an%x00%ae%x00%G?%x00%GS', commit, '--'])
  ).split('\0');
  return {
    author: `${name} <${email}>`,
    ...(good === 'G' && signer ? { signer } : {}),
  };
}

/** Where `fetchRepository` checks `url` out: one directory per repository under the cache. */
export function checkoutDirFor(url: string, cacheDir: string): string {
  return join(resolve(cacheDir), createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Fetches `ref` of `url` into `cacheDir` (cloned on first use) and checks it out detached.
 * PDK_RECONCILE_SOURCE when git fails (unknown ref, unreachable repository, refused transport).
 */
export async function fetchRepository(
  url: string,
  ref: string,
  cacheDir: string,
): Promise<DesiredStateSource> {
  // A URL or ref starting with "-" would be read by git as an option.
  if (url.startsWith('-') || ref.startsWith('-'))
    throw new PaddockError('PDK_RECONCILE_SOURCE', `refusing repository ${url} at ${ref}: starts with "-"`);
  const dir = checkoutDirFor(url, cacheDir);
  if (!existsSync(join(dir, '.git'))) {
    await mkdir(resolve(cacheDir), { recursive: true, mode: 0o700 });
    await git(['clone', '--quiet', '--no-checkout', '--', url, dir]);
  }
  await git(['-C', dir, 'fetch', '--quiet', '--force', 'origin', '--', ref]);
  const commit = await git(['-C', dir, 'rev-parse', '--verify', 'FETCH_HEAD^{commit}']);
  await git(['-C', dir, 'checkout', '--quiet', '--force', '--detach', commit]);
  await git(['-C', dir, 'clean', '--quiet', '-fdx']);
  return { dir, commit, ...(await commitInfo(dir, commit)) };
}

/**
 * A directory as it is: its Git commit when it is the top of a clean Git checkout, else the
 * digest of its files.
 */
export async function directorySource(dirPath: string): Promise<DesiredStateSource> {
  const dir = resolve(dirPath);
  if (existsSync(join(dir, '.git'))) {
    const [commit, dirty] = await Promise.all([
      git(['-C', dir, 'rev-parse', '--verify', 'HEAD^{commit}']).catch(() => ''),
      git(['-C', dir, 'status', '--porcelain']).catch(() => 'unknown'),
    ]);
    if (commit && dirty === '') return { dir, commit, ...(await commitInfo(dir, commit)) };
  }
  return { dir, commit: await directoryDigest(dir) };
}

/** `sha256:<hex>` over every file's relative path and bytes, in path order (.git excluded). */
export async function directoryDigest(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((file) => file !== '.git' && !file.startsWith(`.git/`))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const bytes = await readFile(join(dir, file));
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}
