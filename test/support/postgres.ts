import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ENV } from '../../src/core/env.ts';

// A throwaway PostgreSQL cluster for tests: initdb in a temp directory, trust auth on a
// unix socket inside it and on 127.0.0.1 at a free port, fsync off. scripts/test.ts starts
// one per run and exports its URL; a test file run on its own starts its own through
// useTestPostgres(). Missing binaries fail loudly: a test never skips for want of them.

export interface PostgresCluster {
  /** Superuser URL over TCP: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Unix socket directory inside the temp directory. */
  readonly socketDir: string;
  /** The temp directory holding data, socket and server log; removed by stop(). */
  readonly dir: string;
  /** Major version, e.g. `15`. */
  readonly version: string;
  /** Milliseconds from initdb to ready. */
  readonly startMs: number;
  /** Stops the server (immediate mode: the data is thrown away) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Progress lines. Default: stderr. */
  readonly log?: (line: string) => void;
  /** Keep fsync and synchronous commit on (benchmarks of durable writes). Default false: tests run faster without. */
  readonly durable?: boolean;
}

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin directory, or a loud error naming the package to install. */
export function findPostgres(root = PG_ROOT): { binDir: string; version: string } {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (!version) {
    throw new Error(
      `PostgreSQL server binaries not found (no ${root}/*/bin/initdb): the store tests need a real PostgreSQL; ` +
        'install the Debian package postgresql (apt-get install postgresql, or scripts/setup.sh)',
    );
  }
  return { binDir: join(root, version, 'bin'), version };
}

/** initdb refuses to run as root: as root, the cluster runs as `postgres` (or `nobody`). */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(':');
    if (fields) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type Account = { uid: number; gid: number } | undefined;

function run(file: string, args: string[], cwd: string, account: Account, detached = false): Promise<string> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  if (detached) {
    // pg_ctl start: its own session, so a Ctrl-C meant for the tests does not reach the server
    // before the runner stops it; its output goes to the log file, not to a pipe we wait on.
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { cwd, env, ...account, detached: true, stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve('') : reject(new Error(`${file} exited with ${code}`)),
      );
    });
  }
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, ...account }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${file} ${args[0]} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

/** Starts a throwaway cluster; on any failure it cleans up what it made and throws with the server log. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { binDir, version } = findPostgres();
  const account = serverAccount();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'paddock-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const logFile = join(dir, 'postgres.log');
  mkdirSync(socketDir);
  if (account) for (const path of [dir, socketDir]) chownSync(path, account.uid, account.gid);
  log(`starting PostgreSQL ${version} in ${dir}`);

  const pgCtl = join(binDir, 'pg_ctl');
  let running = false;
  const stop = async () => {
    if (running) {
      running = false;
      await run(pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w', '-s'], dir, account).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      join(binDir, 'initdb'),
      [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
        '--no-instructions',
      ],
      dir,
      account,
    );
    let port = 0;
    for (let attempt = 1; !running; attempt++) {
      port = await freePort();
      const speed = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
      const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${socketDir}${speed} -c max_connections=200`;
      try {
        await run(
          pgCtl,
          ['start', '-w', '-t', '60', '-s', '-D', data, '-l', logFile, '-o', serverOptions],
          dir,
          account,
          true,
        );
        running = true;
      } catch (error) {
        // Another process may take the free port between our probe and the server's bind.
        if (attempt >= 3 || !/could not bind|Address already in use/.test(readLog(logFile))) throw error;
      }
    }
    const startMs = Date.now() - started;
    log(`PostgreSQL ready in ${startMs} ms`);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      socketDir,
      dir,
      version,
      startMs,
      stop,
    };
  } catch (error) {
    const serverLog = readLog(logFile);
    await stop();
    throw new Error(`could not start PostgreSQL ${version}: ${(error as Error).message}\n${serverLog}`, {
      cause: error,
    });
  }
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-20).join('\n') : '';
}

/**
 * The test server: the runner's (PADDOCK_TEST_DATABASE_URL) when set, else a cluster of this
 * file's own, which `release` stops.
 */
export async function useTestPostgres(): Promise<{ url: string; release(): Promise<void> }> {
  const url = process.env[ENV.testDatabaseUrl];
  if (url) return { url, release: async () => {} };
  const cluster = await startPostgres();
  return { url: cluster.url, release: cluster.stop };
}

/** Creates an empty database on the server at `serverUrl`; resolves to its URL. */
export async function createDatabase(serverUrl: string, prefix = 'paddock_test'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Creates an empty schema in the database at `databaseUrl`; resolves to a URL whose connections
 * use it as their search_path. Much faster than a database per test (milliseconds, not 300 ms).
 */
export async function createSchema(databaseUrl: string, prefix = 'paddock_test'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withClient(databaseUrl, (client) => client.query(`CREATE SCHEMA "${name}"`));
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${name}`);
  return url.toString();
}

/** Drops a database made by createDatabase, closing its remaining connections. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  if (!/^[a-z0-9_]+$/.test(name))
    throw new Error(`refusing to drop database ${name}: not a test database name`);
  url.pathname = '/postgres';
  await withClient(url.toString(), (client) =>
    client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

/** Runs `work` with a connected client, closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
