import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StoreBackend } from '../store-suite.ts';
import { heldCall } from '../review-queue-fixtures.ts';
import { bearer, type Harness, loginToken, startHarness } from './harness.ts';

// The authorization matrix: every route of the control plane's route table × {anonymous,
// another user, the owner, a reviewer, an admin}, with the status each must get. A route in
// the table without a row here (or a row for a route that is gone) fails the test.
// Personas from the example platform: alice owns ws-alice and requested the review; carol is
// another user; bob reviews it (group:appsec); erin is an administrator (platform-admins).

type Persona = 'anonymous' | 'other' | 'owner' | 'reviewer' | 'admin';
const PERSONAS: readonly Persona[] = ['anonymous', 'other', 'owner', 'reviewer', 'admin'];
const EMAIL: Readonly<Record<Exclude<Persona, 'anonymous'>, string>> = {
  other: 'carol@example.com',
  owner: 'alice@example.com',
  reviewer: 'bob@example.com',
  admin: 'erin@example.com',
};

interface Fixture {
  /** A fresh session of the owner (for routes that end one). */
  ownerSessionId(): Promise<string>;
  /** A fresh pending review requested by the owner. */
  reviewId(): Promise<string>;
}

interface Row {
  /** The request path, with the route's parameters filled in. */
  readonly path: (f: Fixture) => Promise<string> | string;
  readonly body?: unknown;
  /** Each persona's expected status. */
  readonly expect: Readonly<Record<Persona, number>>;
  /** The route ends or changes something (documentation: every row signs in afresh anyway). */
  readonly destructive?: boolean;
}

const ALL = (status: number) => ({
  anonymous: status,
  other: status,
  owner: status,
  reviewer: status,
  admin: status,
});
const SIGNED_IN = (status: number) => ({ ...ALL(status), anonymous: 401 });
// Another user gets 404 (the request is hidden from them; the attempt is still audited), the
// requester 403 (self-approval), an admin who is no reviewer 403.
const ANSWER = { anonymous: 401, other: 404, owner: 403, reviewer: 200, admin: 403 };

// A workspace, its activity and its recordings: the owner and administrators; anyone else is
// refused before the handler runs (403), or told the recording does not exist (404).
const WORKSPACE = { anonymous: 401, other: 403, owner: 200, reviewer: 403, admin: 200 };
const RECORDING = { anonymous: 401, other: 404, owner: 200, reviewer: 404, admin: 200 };
const RECORDING_ID = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** Keys are `METHOD path-pattern`, exactly as the route table has them. */
export const MATRIX: Readonly<Record<string, Row>> = {
  'GET /api/workspaces': { path: () => '/api/workspaces', expect: SIGNED_IN(200) },
  'GET /api/workspaces/:workspaceId': { path: () => '/api/workspaces/ws-alice', expect: WORKSPACE },
  // An action no workspace has: access is decided first (401/403), then the handler's 404.
  'POST /api/workspaces/:workspaceId/actions/:action': {
    path: () => '/api/workspaces/ws-alice/actions/explode',
    body: {},
    expect: { anonymous: 401, other: 403, owner: 404, reviewer: 403, admin: 404 },
  },
  'GET /api/workspaces/:workspaceId/activity': {
    path: () => '/api/workspaces/ws-alice/activity',
    expect: WORKSPACE,
  },
  // The host key comes from the connected supervisor: ws-alice has none running here (503).
  'GET /api/workspaces/:workspaceId/ssh-host-key': {
    path: () => '/api/workspaces/ws-alice/ssh-host-key',
    expect: { ...WORKSPACE, owner: 503, admin: 503 },
  },
  'GET /api/recordings': { path: () => '/api/recordings', expect: SIGNED_IN(200) },
  'GET /api/recordings/:recordingId': { path: () => `/api/recordings/${RECORDING_ID}`, expect: RECORDING },
  // The probe endpoint: anyone, signed in or not (the kubelet has no session).
  'GET /healthz': { path: () => '/healthz', expect: ALL(200) },
  'GET /auth/login': { path: () => '/auth/login?return=/x', expect: ALL(302) },
  'GET /auth/callback': { path: () => '/auth/callback?code=x&state=y', expect: ALL(302) },
  'POST /auth/logout': { path: () => '/auth/logout', expect: SIGNED_IN(204), destructive: true },
  'GET /api/auth/config': { path: () => '/api/auth/config', expect: ALL(200) },
  'POST /api/auth/token': { path: () => '/api/auth/token', body: {}, expect: ALL(400) },
  'GET /api/me': { path: () => '/api/me', expect: SIGNED_IN(200) },
  'GET /api/sessions': { path: () => '/api/sessions', expect: SIGNED_IN(200) },
  'DELETE /api/sessions/:sessionId': {
    path: async (f) => `/api/sessions/${await f.ownerSessionId()}`,
    expect: { anonymous: 401, other: 403, owner: 200, reviewer: 403, admin: 200 },
    destructive: true,
  },
  'DELETE /api/users/:userId/sessions': {
    path: () => `/api/users/${EMAIL.owner}/sessions`,
    expect: { anonymous: 401, other: 403, owner: 200, reviewer: 403, admin: 200 },
    destructive: true,
  },
  'GET /api/reviews': { path: () => '/api/reviews?status=pending', expect: SIGNED_IN(200) },
  'GET /api/reviews/:reviewId': {
    path: async (f) => `/api/reviews/${await f.reviewId()}`,
    expect: { anonymous: 401, other: 404, owner: 200, reviewer: 200, admin: 200 },
  },
  'POST /api/reviews/:reviewId/approve': {
    path: async (f) => `/api/reviews/${await f.reviewId()}/approve`,
    body: { reason: 'matrix' },
    expect: ANSWER,
    destructive: true,
  },
  'POST /api/reviews/:reviewId/deny': {
    path: async (f) => `/api/reviews/${await f.reviewId()}/deny`,
    body: { reason: 'matrix' },
    expect: ANSWER,
    destructive: true,
  },
};

export function describeMatrix(name: string, backend: StoreBackend): void {
  describe(`authorization matrix (${name})`, () => {
    let h: Harness;
    let calls = 0;
    before(async () => {
      h = await startHarness({ storeUrl: await backend.freshUrl(), sweepIntervalMs: 60_000 });
      await h.store.createUser({ id: EMAIL.owner, displayName: 'Alice Engineer' });
      await h.store.createWorkspace({
        id: 'ws-alice',
        owner: EMAIL.owner,
        profile: 'standard-local',
        provider: 'local',
        state: 'running',
      });
      // A sealed recording of the owner's terminal, as the broker leaves one.
      const recordings = join(h.dataDir, 'recordings');
      mkdirSync(recordings, { recursive: true, mode: 0o700 });
      const cast = '{"version":2,"width":80,"height":24}\n[0.1,"o","hi"]\n';
      writeFileSync(join(recordings, `${RECORDING_ID}.cast`), cast, { mode: 0o600 });
      writeFileSync(
        join(recordings, `${RECORDING_ID}.json`),
        JSON.stringify({
          id: RECORDING_ID,
          workspaceId: 'ws-alice',
          userId: EMAIL.owner,
          sessionId: 'matrix',
          cols: 80,
          rows: 24,
          startedAt: Date.now() - 1000,
          endedAt: Date.now(),
          sizeBytes: cast.length,
        }),
        { mode: 0o600 },
      );
    });
    after(() => h?.close());

    const signIn = async (persona: Persona) => {
      if (persona === 'anonymous') return undefined;
      return loginToken(h.origin, EMAIL[persona]);
    };
    const fixture: Fixture = {
      ownerSessionId: async () => {
        const token = await loginToken(h.origin, EMAIL.owner);
        const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
          session: { id: string };
        };
        return me.session.id;
      },
      reviewId: async () => {
        const answer = await h.server.reviews.request(
          heldCall({
            requester: { id: EMAIL.owner },
            workspaceId: 'ws-alice',
            sessionId: `agent-${++calls}`,
            arguments: { call: calls },
            decisionEvent: undefined,
            gate: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
          }),
        );
        return answer.reviewId;
      },
    };

    it('has exactly one row per route', () => {
      const routes = h.server
        .routes()
        .map((route) => `${route.method} ${route.path}`)
        .sort();
      assert.deepEqual(Object.keys(MATRIX).sort(), routes);
      assert.deepEqual(
        h.server.upgradeRoutes().map((route) => `${route.path} ${route.access}`),
        ['/api/workspaces/:workspaceId/terminal owner'],
      );
    });

    it('docs/api.md lists every route', () => {
      const docs = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
      for (const route of h.server.routes())
        assert.ok(
          docs.includes(`| ${route.method} | \`${route.path}`),
          `${route.method} ${route.path} in docs/api.md`,
        );
    });

    for (const [key, row] of Object.entries(MATRIX)) {
      it(key, async () => {
        const method = key.split(' ')[0] as string;
        for (const persona of PERSONAS) {
          // Destructive rows end sessions, so every persona signs in afresh for every row.
          const token = await signIn(persona);
          const path = await row.path(fixture);
          const headers: Record<string, string> = token ? bearer(token) : {};
          if (row.body !== undefined) headers['content-type'] = 'application/json';
          const response = await fetch(`${h.origin}${path}`, {
            method,
            headers,
            body: row.body === undefined ? undefined : JSON.stringify(row.body),
            redirect: 'manual',
          });
          await response.arrayBuffer();
          assert.equal(response.status, row.expect[persona], `${key} as ${persona}`);
        }
      });
    }

    it('shows each user only the reviews they may see', async () => {
      const id = await fixture.reviewId();
      const seen = async (persona: Persona) => {
        const token = (await signIn(persona)) as string;
        const response = await fetch(`${h.origin}/api/reviews?status=pending`, { headers: bearer(token) });
        const body = (await response.json()) as { reviews: { id: string }[] };
        return body.reviews.some((review) => review.id === id);
      };
      assert.deepEqual(
        [await seen('other'), await seen('owner'), await seen('reviewer'), await seen('admin')],
        [false, true, true, true],
      );
    });

    it('hides a review from another user even when they try to answer it, and audits the try', async () => {
      const id = await fixture.reviewId();
      const token = (await signIn('other')) as string;
      const before = h.events.length;
      const response = await fetch(`${h.origin}/api/reviews/${id}/approve`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'let me in' }),
      });
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.deepEqual([response.status, body.error.code], [404, 'PDK_REVIEW_NOT_FOUND']);
      assert.doesNotMatch(body.error.message, /appsec/);
      const finding = h.events
        .slice(before)
        .find((event) => (event['metadata'] as { event_code: string }).event_code === 'finding.created');
      assert.ok(finding, 'the refused answer is audited as a finding');
      assert.equal((await h.server.reviews.show(id)).status, 'pending');
    });

    it('lists only the own sessions, except for an administrator', async () => {
      const list = async (persona: Persona) => {
        const token = await signIn(persona);
        const body = (await (
          await fetch(`${h.origin}/api/sessions`, { headers: bearer(token as string) })
        ).json()) as {
          sessions: { userId: string }[];
        };
        return new Set(body.sessions.map((session) => session.userId));
      };
      assert.deepEqual([...(await list('other'))], [EMAIL.other]);
      const all = await list('admin');
      assert.ok(all.has(EMAIL.other) && all.has(EMAIL.admin) && all.size >= 3);
    });
  });
}
