// Builds the web console (src/console) with Vite into <repo>/.paddock/console, only when its
// sources changed: a SHA-256 over every source file, the Vite config and the lockfile is kept
// in a stamp file next to the output, so `npm start` and the browser tests call this cheaply.
//
//   node scripts/build-console.ts           build if stale, print where
//   node scripts/build-console.ts --force   build anyway
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';
import consoleConfig, { CONSOLE_BUILD_DIR } from '../src/console/vite.config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONSOLE_DIR = join(ROOT, 'src', 'console');
const STAMP_FILE = '.build-stamp';

export { CONSOLE_BUILD_DIR };

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** The content hash the built output is stamped with: sources, config, dependency versions. */
export function consoleSourceHash(): string {
  const hash = createHash('sha256');
  const inputs = [...files(CONSOLE_DIR), join(ROOT, 'package-lock.json')].sort();
  // The console imports the review types from policy: type-only, but part of what it is built from.
  inputs.push(join(ROOT, 'src', 'policy', 'review', 'types.ts'));
  for (const path of inputs) {
    if (!existsSync(path)) continue;
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

function readStamp(outDir: string): string | undefined {
  try {
    return readFileSync(join(outDir, STAMP_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Runs Vite once into `outDir` (emptied first). */
export async function buildConsole(outDir: string): Promise<void> {
  const { build } = await import('vite');
  const config: InlineConfig = {
    ...consoleConfig,
    configFile: false,
    logLevel: 'warn',
    build: { ...consoleConfig.build, outDir, emptyOutDir: true },
  };
  await build(config);
}

export interface EnsureResult {
  readonly outDir: string;
  /** False when the stamp matched and nothing was built. */
  readonly built: boolean;
}

/**
 * Builds the console into `outDir` unless its stamp matches the sources. Safe to call from
 * several processes at once: each builds into its own directory and swaps it in by rename.
 */
export async function ensureConsoleBuilt(
  options: { outDir?: string; force?: boolean } = {},
): Promise<EnsureResult> {
  const outDir = resolve(options.outDir ?? CONSOLE_BUILD_DIR);
  const hash = consoleSourceHash();
  if (!options.force && readStamp(outDir) === hash) return { outDir, built: false };

  mkdirSync(dirname(outDir), { recursive: true });
  const staging = `${outDir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await buildConsole(staging);
    writeFileSync(join(staging, STAMP_FILE), hash + '\n');
    const previous = `${outDir}.previous-${process.pid}`;
    try {
      renameSync(outDir, previous);
    } catch (error) {
      // Absent (first build), or another process moved it away first.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    try {
      renameSync(staging, outDir);
    } catch (error) {
      // Another process swapped in its build first; keep that one when it is current.
      if (readStamp(outDir) !== hash) throw error;
    }
    rmSync(previous, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { outDir, built: true };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const result = await ensureConsoleBuilt({ force: process.argv.includes('--force') });
  const took = Math.round(performance.now() - started);
  const where = relative(process.cwd(), result.outDir) || '.';
  process.stdout.write(
    result.built ? `console built into ${where} in ${took} ms\n` : `console up to date in ${where}\n`,
  );
}
