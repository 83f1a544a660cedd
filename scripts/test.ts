// The test runner (`npm test`, after typecheck and lint; `npm run test:only` alone).
//
//   node scripts/test.ts                       every test/**/*.test.ts
//   node scripts/test.ts test/controlplane/    a directory (its *.test.ts files)
//   node scripts/test.ts test/a.test.ts --test-name-pattern=revoke
//
// It starts one throwaway PostgreSQL cluster, exports its URL as PADDOCK_TEST_DATABASE_URL,
// runs `node --test` with this same Node.js, then always stops the cluster and removes its
// directory (also after a failure or Ctrl-C), and exits with the test run's code. Options
// are forwarded to node --test; give their values with `=` so they are not read as paths.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../src/core/env.ts';
import { type PostgresCluster, startPostgres } from '../test/support/postgres.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_PATTERN = 'test/**/*.test.ts';

/** node --test arguments: options first as given, then files, directories as globs of their tests. */
export function testArguments(argv: readonly string[], cwd: string): string[] {
  const options: string[] = [];
  const files: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) {
      options.push(arg);
      continue;
    }
    const absolute = resolve(cwd, arg);
    if (!existsSync(absolute)) {
      files.push(arg); // a glob: node --test expands it, relative to the repository root
      continue;
    }
    const path = relative(ROOT, absolute) || '.';
    files.push(statSync(absolute).isDirectory() ? `${path.replace(/\/$/, '')}/**/*.test.ts` : path);
  }
  return ['--test', '--test-concurrency=2', ...options, ...(files.length > 0 ? files : [DEFAULT_PATTERN])];
}

async function main(): Promise<number> {
  let cluster: PostgresCluster | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    process.stderr.write(`\n${signal}: stopping the tests and PostgreSQL\n`);
    child?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    cluster = await startPostgres();
    if (interrupted) return 130;
    const args = testArguments(process.argv.slice(2), process.cwd());
    const started = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, [ENV.testDatabaseUrl]: cluster.url },
    });
    child = started;
    const code = await new Promise<number>((done) => {
      started.once('error', (error) => {
        process.stderr.write(`could not run node --test: ${error.message}\n`);
        done(1);
      });
      started.once('exit', (exitCode, signal) => done(exitCode ?? (signal === 'SIGINT' ? 130 : 1)));
    });
    return interrupted ? 130 : code;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return interrupted ? 130 : 1;
  } finally {
    await cluster?.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
