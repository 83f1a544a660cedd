import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { after, before, describe, it } from 'node:test';
import type { DesiredState } from '../../../src/config/index.ts';
import {
  type StandaloneEmbeddedIdp,
  startEmbeddedIdp,
} from '../../../src/controlplane/identity/embedded-idp.ts';
import { SessionKey } from '../../../src/controlplane/sessions/session-key.ts';
import { sessionIdFor } from '../../../src/controlplane/sessions/session-token.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { createDatabase, dropDatabase, useTestPostgres, withClient } from '../../support/postgres.ts';
import { bearer, exampleState, type Harness, loginToken, startHarness } from '../http/harness.ts';

// Sessions shared by two control-plane replicas on one real PostgreSQL (two servers in this
// process, each with its own store connections, like two `paddock serve` pods), signing in
// against one IdP on its own origin (a real oidc-provider standing in for Keycloak or Entra
// ID), both holding the same session key. Checked: a session started through A is accepted and
// refreshed by B; revoked through B, A refuses it at once (no sweep); of two replicas refreshing
// at once exactly one does; the IdP refresh token is stored only sealed (a full dump of every
// table never contains it); a sealed token copied into another session's row does not open.

const SECRET = 'shared-sessions-client-secret-0123456789';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function withExternalIdp(state: DesiredState, issuer: string): DesiredState {
  const platform = state.platform!;
  const spec = platform.value.spec;
  const identity = {
    ...spec.identity,
    provider: 'oidc' as const,
    issuer,
    clientId: 'paddock-web',
    clientSecretEnv: 'PADDOCK_OIDC_SECRET',
    cliClientId: 'paddock-cli',
    extraScopes: ['groups'],
    demoUsers: [],
  };
  return { ...state, platform: { ...platform, value: { ...platform.value, spec: { ...spec, identity } } } };
}

/** Every row of every table in the store's schema, as text: what a database dump would hold. */
async function dumpEveryTable(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    assert.ok(tables.rows.some((row) => row.table_name === 'sessions'));
    let dump = '';
    for (const { table_name: table } of tables.rows) {
      const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      dump += `${table}\n${rows.rows.map((row: { row: string }) => row.row).join('\n')}\n`;
    }
    return dump;
  });
}

/**
 * Resolves once `count` backends wait on a lock in this database: the refresh claims, held by
 * the row `client` locked (nothing else writes meanwhile). Not matched on the query text: a
 * backend queued behind the first waiter (a tuple lock) can still show its previous query.
 */
async function claimsWaiting(client: pg.Client, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await client.query<{ waiting: string }>(
      `SELECT count(*) AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if (Number(rows[0]!.waiting) >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${rows[0]!.waiting} of ${count} refresh claims reached the row`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function sealedOf(url: string, sessionId: string): Promise<string> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ refresh_sealed: string }>(
      'SELECT refresh_sealed FROM sessions WHERE id = $1',
      [sessionId],
    );
    assert.ok(rows[0]?.refresh_sealed, 'the session has a sealed refresh token');
    return rows[0].refresh_sealed;
  });
}

describe('sessions shared by two replicas (PostgreSQL)', () => {
  const key = SessionKey.ephemeral();
  let server: { url: string; release(): Promise<void> };
  let database: string;
  let idp: StandaloneEmbeddedIdp;
  let a: Harness;
  let b: Harness;

  before(async () => {
    server = await useTestPostgres();
    database = await createDatabase(server.url);
    const [portA, portB] = [await freePort(), await freePort()];
    idp = await startEmbeddedIdp({
      accounts: [
        { email: 'ada@example.com', name: 'Ada', groups: ['platform-admins'] },
        { email: 'bob@example.com', name: 'Bob', groups: ['developers'] },
        { email: 'eve@example.com', name: 'Eve', groups: ['developers'] },
      ],
      webClient: {
        clientId: 'paddock-web',
        clientSecret: SECRET,
        redirectUris: [`http://127.0.0.1:${portA}/auth/callback`, `http://127.0.0.1:${portB}/auth/callback`],
      },
      cliClientId: 'paddock-cli',
    });
    const state = withExternalIdp(await exampleState(), idp.issuer);
    const common = { storeUrl: database, state, env: { PADDOCK_OIDC_SECRET: SECRET }, sessionKey: key };
    // No sweeps on their own: each check below says when a replica looks.
    a = await startHarness({ ...common, port: portA, sweepIntervalMs: 3_600_000 });
    b = await startHarness({ ...common, port: portB, sweepIntervalMs: 3_600_000 });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await idp?.close();
    if (database) await dropDatabase(database);
    await server?.release();
  });

  it('accepts at B a session started through A, and B refreshes it with the IdP', async () => {
    const token = await loginToken(a.origin, 'ada@example.com');
    const id = sessionIdFor(token) as string;
    const me = await fetch(`${b.origin}/api/me`, { headers: bearer(token) });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: { id: string } }).user.id, 'ada@example.com');
    const before = await sealedOf(database, id);
    const refreshedAt = b.events.length;
    assert.equal(await b.server.sessions.refresh(id), true);
    assert.deepEqual(b.codes().slice(refreshedAt), ['session.refreshed']);
    // B stored the outcome (sealed afresh: a new IV every time).
    const after = await sealedOf(database, id);
    assert.notEqual(after, before);
    assert.ok(key.open(id, after).length > 0);
    // Still good on both, and A can refresh what B stored.
    assert.equal((await fetch(`${a.origin}/api/me`, { headers: bearer(token) })).status, 200);
    assert.equal(await a.server.sessions.refresh(id), true);
    assert.equal((await fetch(`${b.origin}/api/me`, { headers: bearer(token) })).status, 200);
  });

  it('lets exactly one replica refresh a session when both try at once', async () => {
    const token = await loginToken(a.origin, 'bob@example.com');
    const id = sessionIdFor(token) as string;
    const [eventsA, eventsB] = [a.events.length, b.events.length];
    // "At once" made sure: the test holds the session's row, so both replicas read it and both
    // claims wait on the row, each for the version it read. Without the hold, on a loaded machine
    // one replica could finish its whole refresh before the other read, and then rightly refresh
    // again.
    const results = await withClient(database, async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [id]);
      const both = Promise.all([a.server.sessions.refresh(id), b.server.sessions.refresh(id)]);
      await claimsWaiting(client, 2);
      await client.query('COMMIT');
      return both;
    });
    assert.deepEqual(results, [true, true], 'the session stays live on both');
    const refreshed = [...a.codes().slice(eventsA), ...b.codes().slice(eventsB)].filter(
      (code) => code === 'session.refreshed',
    );
    assert.equal(refreshed.length, 1, 'one refresh, claimed by one replica');
    // The one refresh token stored is the newest: another refresh goes through.
    assert.equal(await b.server.sessions.refresh(id), true);
    assert.equal((await fetch(`${a.origin}/api/me`, { headers: bearer(token) })).status, 200);
  });

  it("refuses at A, at once, a session revoked through B, and tells A's listeners", async () => {
    const token = await loginToken(a.origin, 'bob@example.com');
    const id = sessionIdFor(token) as string;
    assert.equal((await fetch(`${a.origin}/api/me`, { headers: bearer(token) })).status, 200);
    const endedAtA: string[] = [];
    const stop = a.server.sessions.onSessionEnded((ended, reason) => {
      if (ended === id) endedAtA.push(reason);
    });
    const revokedAt = b.events.length;
    const revoke = await fetch(`${b.origin}/api/sessions/${id}`, {
      method: 'DELETE',
      headers: bearer(token),
    });
    assert.equal(revoke.status, 200);
    assert.deepEqual(b.codes().slice(revokedAt), ['session.revoked user_revoked']);
    const auditedAtA = a.events.length;
    // No sweep has run: the store is read on every request.
    assert.equal((await fetch(`${a.origin}/api/me`, { headers: bearer(token) })).status, 401);
    assert.deepEqual(endedAtA, ['revoked']);
    assert.equal(a.server.sessions.isActive(id), false);
    await a.server.sessions.sweep();
    stop();
    assert.deepEqual(endedAtA, ['revoked'], 'told once');
    // B audited the revocation; A does not audit it a second time.
    assert.deepEqual(
      a
        .codes()
        .slice(auditedAtA)
        .filter((code) => code.startsWith('session.')),
      [],
    );
  });

  it('revokes everywhere a session whose refresh the IdP refuses (account disabled at the IdP)', async () => {
    const token = await loginToken(b.origin, 'eve@example.com');
    const id = sessionIdFor(token) as string;
    idp.setAccountDisabled('eve@example.com', true);
    try {
      assert.equal(await a.server.sessions.refresh(id), false);
      assert.ok(a.codes().includes('session.revoked refresh_failed'));
      assert.equal((await fetch(`${b.origin}/api/me`, { headers: bearer(token) })).status, 401);
    } finally {
      idp.setAccountDisabled('eve@example.com', false);
    }
  });

  it('stores the IdP refresh token only sealed: a dump of every table never contains it', async () => {
    const token = await loginToken(b.origin, 'ada@example.com');
    const id = sessionIdFor(token) as string;
    assert.equal(await a.server.sessions.refresh(id), true);
    const sealed = await sealedOf(database, id);
    // The canary: the real refresh token the IdP issued (opened with the key the test holds).
    const refreshToken = key.open(id, sealed);
    assert.ok(refreshToken.length >= 20, 'a real refresh token');
    const dump = await dumpEveryTable(database);
    assert.ok(dump.includes(id), 'the dump holds the session');
    assert.ok(dump.includes(sealed), 'the dump holds the sealed token');
    assert.equal(dump.includes(refreshToken), false, 'the refresh token is in the dump');
    assert.equal(dump.includes(token), false, 'the bearer token is in the dump');
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a sealed refresh token copied into another session row (bound to its session id)', async () => {
    const attacker = await loginToken(a.origin, 'bob@example.com');
    const victim = await loginToken(a.origin, 'ada@example.com');
    const attackerId = sessionIdFor(attacker) as string;
    const victimId = sessionIdFor(victim) as string;
    const victimSealed = await sealedOf(database, victimId);
    // Someone with write access to the database moves the victim's sealed token into the
    // attacker's session, hoping the attacker's session now refreshes as the victim.
    await withClient(database, (client) =>
      client.query('UPDATE sessions SET refresh_sealed = $1 WHERE id = $2', [victimSealed, attackerId]),
    );
    assert.throws(
      () => key.open(attackerId, victimSealed),
      (error: unknown) => isPaddockError(error, 'PDK_AUTH_SESSION_KEY'),
    );
    const refreshedAt = [a.events.length, b.events.length];
    assert.equal(await b.server.sessions.refresh(attackerId), false);
    assert.equal((await fetch(`${a.origin}/api/me`, { headers: bearer(attacker) })).status, 401);
    const codes = [...a.codes().slice(refreshedAt[0]), ...b.codes().slice(refreshedAt[1])];
    assert.equal(codes.includes('session.refreshed'), false, 'no refresh was made with the moved token');
    // The victim's session is untouched.
    assert.equal((await fetch(`${b.origin}/api/me`, { headers: bearer(victim) })).status, 200);
    // And a tampered ciphertext does not open either.
    // The second-to-last character (all its bits are data), always changed: 'A' unless it is one.
    const changed = victimSealed.at(-2) === 'A' ? 'B' : 'A';
    const flipped = `${victimSealed.slice(0, -2)}${changed}${victimSealed.slice(-1)}`;
    assert.notEqual(flipped, victimSealed);
    assert.throws(
      () => key.open(victimId, flipped),
      (error: unknown) => isPaddockError(error, 'PDK_AUTH_SESSION_KEY'),
    );
  });
});
