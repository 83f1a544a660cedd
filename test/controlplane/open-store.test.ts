import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { openStore, redactDatabaseUrl, sqliteStoreUrl } from '../../src/controlplane/index.ts';
import { useTestPostgres } from '../support/postgres.ts';

// Choosing a backend from a URL, and failing clearly (without the password) when it cannot open.

const PASSWORD = 'hunter2-secret';

/** A loopback port with nothing listening: bound, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function rejectsWithoutPassword(url: string, code: string, message: RegExp | string): Promise<void> {
  await assert.rejects(openStore({ url, connectTimeoutMs: 2000 }), (error: Error & { code: string }) => {
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.doesNotMatch(inspect(error, { depth: 10 }), new RegExp(PASSWORD));
    return true;
  });
}

describe('openStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-open-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens SQLite at an absolute path, creating the directory and an owner-only file', async () => {
    const url = sqliteStoreUrl(join(dir, 'data'));
    assert.equal(url, `sqlite:${join(dir, 'data', 'controlplane.db')}`);
    const store = await openStore({ url });
    assert.deepEqual([store.dialect, store.schemaVersion], ['sqlite', 8]);
    await store.close();
    assert.equal(statSync(join(dir, 'data', 'controlplane.db')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700);
    const again = await openStore({ url: `sqlite://${join(dir, 'data', 'controlplane.db')}` });
    await again.close();
    const memory = await openStore({ url: 'sqlite::memory:' });
    await memory.close();
  });

  it('refuses URLs it cannot use, naming the accepted forms', async () => {
    await rejectsWithoutPassword(
      `mysql://root:${PASSWORD}@db/paddock`,
      'PDK_STORE_UNAVAILABLE',
      'unsupported database URL scheme mysql:: use sqlite:/absolute/path.db or postgres://user@host:5432/db',
    );
    await rejectsWithoutPassword(
      'sqlite:data/controlplane.db',
      'PDK_STORE_UNAVAILABLE',
      'SQLite URL sqlite:data/controlplane.db must name an absolute file path (sqlite:/var/lib/paddock/controlplane.db)',
    );
    await rejectsWithoutPassword(
      `postgres://paddock:${PASSWORD}@[not-an-ip/paddock`,
      'PDK_STORE_UNAVAILABLE',
      'PostgreSQL URL could not be parsed: expected postgres://user:password@host:5432/db',
    );
    await rejectsWithoutPassword(
      '',
      'PDK_STORE_UNAVAILABLE',
      'no database URL given: use sqlite:/absolute/path.db or postgres://user@host:5432/db',
    );
  });

  it('reports an unusable SQLite location as unavailable', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, '');
    await rejectsWithoutPassword(
      `sqlite:${file}/controlplane.db`,
      'PDK_STORE_UNAVAILABLE',
      `SQLite database ${file}/controlplane.db is unavailable: EEXIST: file already exists, mkdir '${file}'`,
    );
  });

  it('reports an unreachable PostgreSQL without its password', async () => {
    const port = await closedPort();
    await rejectsWithoutPassword(
      `postgres://paddock:${PASSWORD}@127.0.0.1:${port}/paddock?sslmode=disable`,
      'PDK_STORE_UNAVAILABLE',
      new RegExp(
        `^PostgreSQL at postgres://paddock@127\\.0\\.0\\.1:${port}/paddock is unavailable: .*ECONNREFUSED`,
      ),
    );
  });

  describe('on a running PostgreSQL', () => {
    let server: { url: string; release(): Promise<void> } | undefined;
    before(async () => {
      server = await useTestPostgres();
    });
    after(() => server?.release());

    it('reports a missing database as unavailable', async () => {
      const url = new URL(server!.url);
      url.pathname = '/no_such_database';
      url.password = PASSWORD;
      await rejectsWithoutPassword(
        url.toString(),
        'PDK_STORE_UNAVAILABLE',
        `PostgreSQL at postgres://postgres@${url.host}/no_such_database is unavailable: ` +
          'database "no_such_database" does not exist',
      );
    });
  });

  it('redacts passwords and query parameters from displayed URLs', () => {
    assert.equal(
      redactDatabaseUrl(`postgresql://app:${PASSWORD}@db.internal:6432/paddock?password=${PASSWORD}`),
      'postgresql://app@db.internal:6432/paddock',
    );
    assert.equal(
      redactDatabaseUrl('sqlite:/var/lib/paddock/controlplane.db'),
      'sqlite:/var/lib/paddock/controlplane.db',
    );
    assert.equal(redactDatabaseUrl(`postgres://app:${PASSWORD}@[bad`), '(unparseable URL)');
  });
});
