import { isAbsolute, join, resolve } from 'node:path';
import { type Clock, systemClock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { openPostgresStore } from './postgres-store.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /**
   * Which database: `sqlite:/absolute/path.db` (also `sqlite:///absolute/path.db`), `sqlite::memory:`
   * (tests), or `postgres://user:password@host:5432/db` (also `postgresql://`, with any libpq-style
   * query parameters pg understands, such as `sslmode`). The password never appears in messages.
   */
  readonly url: string;
  /** Source of timestamps. Default: the system clock. */
  readonly clock?: Clock;
  /** SQLite: how long a write waits for another process's lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: connections per replica. Default 10. */
  readonly poolSize?: number;
  /** PostgreSQL: how long to wait for a connection. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
}

type Target = { kind: 'sqlite'; path: string } | { kind: 'postgres'; displayUrl: string };

/**
 * Opens the control-plane store named by `url` and brings its schema up to date.
 * Fails with PDK_STORE_UNAVAILABLE (bad URL, unreachable server, unusable file) or
 * PDK_STORE_MIGRATION (edited migration, database newer than this Paddock).
 *
 * @example
 * const store = await openStore({ url: sqliteStoreUrl('/var/lib/paddock') });
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const target = parseStoreUrl(options.url);
  const clock = options.clock ?? systemClock;
  switch (target.kind) {
    case 'sqlite':
      return openSqliteStore({ path: target.path, clock, busyTimeoutMs: options.busyTimeoutMs });
    case 'postgres':
      return openPostgresStore({
        url: options.url,
        displayUrl: target.displayUrl,
        clock,
        poolSize: options.poolSize,
        connectTimeoutMs: options.connectTimeoutMs,
      });
  }
}

/** The embedded store's URL for a data directory: `sqlite:<dataDir>/controlplane.db`. */
export function sqliteStoreUrl(dataDir: string): string {
  return `sqlite:${join(resolve(dataDir), 'controlplane.db')}`;
}

/** A database URL safe to show: no password, no query (it may hold `password=`). */
export function redactDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : '';
    return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

function parseStoreUrl(url: string): Target {
  if (!url) {
    throw invalid('no database URL given: use sqlite:/absolute/path.db or postgres://user@host:5432/db');
  }
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('///')) path = path.slice(2);
    if (path === ':memory:' || (isAbsolute(path) && !path.startsWith('//'))) return { kind: 'sqlite', path };
    throw invalid(
      `SQLite URL ${url} must name an absolute file path (sqlite:/var/lib/paddock/controlplane.db)`,
    );
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      // No cause: Node's URL error carries the input, password included.
      throw invalid('PostgreSQL URL could not be parsed: expected postgres://user:password@host:5432/db');
    }
    return { kind: 'postgres', displayUrl: redactDatabaseUrl(url) };
  }
  const scheme = /^([a-z][a-z0-9+.-]{0,19}):/i.exec(url)?.[1];
  throw invalid(
    `unsupported database URL${scheme ? ` scheme ${scheme}:` : ''}: use sqlite:/absolute/path.db or postgres://user@host:5432/db`,
  );
}

function invalid(message: string): PaddockError {
  return new PaddockError('PDK_STORE_UNAVAILABLE', message);
}
