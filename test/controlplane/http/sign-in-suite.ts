import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { StoreBackend } from '../store-suite.ts';
import {
  approveDeviceCode,
  bearer,
  browserLogin,
  type Harness,
  loginToken,
  manualClock,
  startHarness,
  step,
} from './harness.ts';

// Browser sign-in (authorization code + PKCE against the embedded oidc-provider), the CLI's
// device flow, sessions (idle timeout, revocation, refresh after the IdP disabled the user) and
// the CSRF rules, against a real control plane over one store backend.

export function describeSignIn(name: string, backend: StoreBackend): void {
  describe(`sign-in and sessions (${name})`, () => {
    let h: Harness;
    const clock = manualClock();
    before(async () => {
      h = await startHarness({ storeUrl: await backend.freshUrl(), clock, sweepIntervalMs: 60_000 });
    });
    after(() => h?.close());

    it('signs a user in through the IdP and returns to the requested page', async () => {
      const { jar, callback } = await browserLogin(h.origin, 'bob@example.com', { returnTo: '/reviews?x=1' });
      assert.equal(callback.status, 302);
      assert.equal(callback.headers.get('location'), '/reviews?x=1');
      const cookie = callback.headers.getSetCookie().find((line) => line.startsWith('paddock_session='));
      assert.match(cookie ?? '', /HttpOnly; SameSite=Strict; Max-Age=28800$/);
      assert.doesNotMatch(cookie ?? '', /Secure/); // http://127.0.0.1
      const me = await step(jar, `${h.origin}/api/me`);
      const body = (await me.json()) as {
        user: { id: string; groups: string[] };
        reviewer: boolean;
        admin: boolean;
        session: { id: string };
      };
      assert.equal(me.status, 200);
      assert.deepEqual(body.user.groups, ['engineering', 'appsec', 'engineering-leads']);
      assert.deepEqual([body.user.id, body.reviewer, body.admin], ['bob@example.com', true, false]);
      // The store holds only the token's hash, which is the session id.
      const stored = await h.store.getSession(body.session.id);
      assert.equal(stored?.userId, 'bob@example.com');
      assert.ok(!JSON.stringify(stored).includes(jar.cookies.get('paddock_session') as string));
      assert.ok(h.codes().includes('session.login'));
    });

    it('shows the demo-user picker again while the IdP session lasts, so users can switch', async () => {
      const { jar } = await browserLogin(h.origin, 'bob@example.com');
      assert.ok(jar.cookies.has('_session'), 'the IdP keeps its own session');
      const again = await browserLogin(h.origin, 'carol@example.com', { jar });
      assert.equal(again.callback.status, 302);
      const me = (await (await step(jar, `${h.origin}/api/me`)).json()) as { user: { id: string } };
      assert.equal(me.user.id, 'carol@example.com');
    });

    it('has the IdP refuse an authorization request without PKCE', async () => {
      const start = await fetch(`${h.origin}/auth/login`, { redirect: 'manual' });
      const authorize = new URL(start.headers.get('location') as string);
      authorize.searchParams.delete('code_challenge');
      authorize.searchParams.delete('code_challenge_method');
      const response = await fetch(authorize, { redirect: 'manual' });
      const target = new URL(response.headers.get('location') as string, authorize);
      assert.equal(target.pathname, '/auth/callback');
      assert.equal(target.searchParams.get('error'), 'invalid_request');
      assert.match(target.searchParams.get('error_description') ?? '', /requires PKCE/);
      assert.equal(target.searchParams.get('code'), null);
    });

    it('refuses an open redirect after sign-in', async () => {
      const { callback } = await browserLogin(h.origin, 'alice@example.com', {
        returnTo: '//evil.example/x',
      });
      assert.equal(callback.headers.get('location'), '/');
    });

    it('refuses a callback in another browser (login CSRF) and a replayed callback', async () => {
      const events = h.events.length;
      const stolen = await browserLogin(h.origin, 'alice@example.com', {
        tamper: (_url, jar) => jar.cookies.delete('paddock_login'),
      });
      assert.equal(stolen.callback.headers.get('location'), '/?login_error=state_not_bound');
      assert.equal(stolen.jar.cookies.get('paddock_session'), undefined);
      let replayUrl = '';
      const first = await browserLogin(h.origin, 'alice@example.com', {
        tamper: (url) => {
          replayUrl = url.href;
        },
      });
      assert.equal(first.callback.status, 302);
      const replay = await step(first.jar, replayUrl);
      assert.equal(replay.headers.get('location'), '/?login_error=invalid_state');
      const failed = h
        .codes()
        .slice(events)
        .filter((code) => code.startsWith('session.login_failed'));
      assert.deepEqual(failed, [
        'session.login_failed state_not_bound',
        'session.login_failed invalid_state',
      ]);
    });

    it('refuses forged, malformed and revoked tokens', async () => {
      for (const token of ['pdk_' + 'A'.repeat(43), 'not-a-token', '']) {
        const response = await fetch(`${h.origin}/api/me`, { headers: bearer(token) });
        assert.equal(response.status, 401);
        const body = (await response.json()) as { error: { code: string; message: string; fix: string } };
        assert.equal(body.error.code, 'PDK_AUTH_REQUIRED');
        assert.match(body.error.fix, /paddock login/);
      }
      const token = await loginToken(h.origin, 'carol@example.com');
      const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
        session: { id: string };
      };
      const ended: string[] = [];
      const stop = h.server.sessions.onSessionEnded((id, reason) =>
        ended.push(`${id === me.session.id} ${reason}`),
      );
      const revoke = await fetch(`${h.origin}/api/sessions/${me.session.id}`, {
        method: 'DELETE',
        headers: bearer(token),
      });
      assert.equal(revoke.status, 200);
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 401);
      assert.deepEqual(ended, ['true revoked']);
      stop();
      assert.ok(h.codes().includes('session.revoked user_revoked'));
    });

    it('ends an idle session (injected clock) and tells the listeners', async () => {
      const token = await loginToken(h.origin, 'dave@example.com');
      const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
        session: { id: string };
      };
      const ended: string[] = [];
      const stop = h.server.sessions.onSessionEnded((id, reason) => {
        if (id === me.session.id) ended.push(reason);
      });
      clock.advance(29 * 60_000);
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 200); // activity resets idle
      clock.advance(29 * 60_000);
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 200);
      clock.advance(31 * 60_000);
      await h.server.sessions.sweep();
      assert.deepEqual(ended, ['idle_timeout']);
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 401);
      assert.ok(h.codes().includes('session.expired idle_timeout'));
      stop();
    });

    it('keeps a session alive on terminal activity (recordActivity) and reports it active', async () => {
      const token = await loginToken(h.origin, 'dave@example.com');
      const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
        session: { id: string };
      };
      for (let round = 0; round < 3; round++) {
        clock.advance(20 * 60_000);
        assert.equal(h.server.sessions.isActive(me.session.id), true);
        h.server.sessions.recordActivity(me.session.id);
      }
      await h.server.sessions.sweep();
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 200);
      clock.advance(31 * 60_000);
      assert.equal(h.server.sessions.isActive(me.session.id), false);
      assert.equal(h.server.sessions.isActive('no-such-session'), false);
    });

    it('ends a session at its maximum age even when active', async () => {
      const token = await loginToken(h.origin, 'dave@example.com');
      for (let hour = 0; hour < 8; hour++) {
        clock.advance(20 * 60_000);
        assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 200);
        clock.advance(20 * 60_000);
        assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 200);
        clock.advance(20 * 60_000);
        const status = (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status;
        if (hour < 7) assert.equal(status, 200, `hour ${hour}`);
        else assert.equal(status, 401);
      }
      assert.ok(h.codes().includes('session.expired max_age'));
    });

    it('revokes the session when the IdP refuses the refresh (user disabled at the IdP)', async () => {
      const token = await loginToken(h.origin, 'alice@example.com');
      const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
        session: { id: string };
      };
      assert.equal(await h.server.sessions.refresh(me.session.id), true);
      assert.ok(h.codes().includes('session.refreshed'));
      h.server.embeddedIdp?.setAccountDisabled('alice@example.com', true);
      try {
        const ended: string[] = [];
        const stop = h.server.sessions.onSessionEnded((id, reason) =>
          ended.push(`${id === me.session.id} ${reason}`),
        );
        assert.equal(await h.server.sessions.refresh(me.session.id), false);
        stop();
        assert.deepEqual(ended, ['true refresh_failed']);
        assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 401);
        assert.ok(h.codes().includes('session.revoked refresh_failed'));
        // A disabled account cannot sign in again either.
        await assert.rejects(loginToken(h.origin, 'alice@example.com'));
      } finally {
        h.server.embeddedIdp?.setAccountDisabled('alice@example.com', false);
      }
    });

    it('refuses cookie-borne state changes from another origin or without one (CSRF)', async () => {
      const { jar } = await browserLogin(h.origin, 'bob@example.com');
      for (const origin of [undefined, 'http://evil.example', h.origin.replace('127.0.0.1', 'localhost')]) {
        const response = await step(jar, `${h.origin}/auth/logout`, {
          method: 'POST',
          headers: origin ? { origin } : {},
        });
        assert.equal(response.status, 403, `origin ${origin}`);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'PDK_AUTH_ORIGIN');
      }
      assert.equal((await step(jar, `${h.origin}/api/me`)).status, 200); // still signed in
      const logout = await step(jar, `${h.origin}/auth/logout`, {
        method: 'POST',
        headers: { origin: h.origin },
      });
      assert.equal(logout.status, 204);
      assert.equal(jar.cookies.get('paddock_session'), undefined);
      assert.ok(h.codes().includes('session.logout logout'));
    });

    it('lets a bearer token (not cookie-borne) skip the Origin check', async () => {
      const token = await loginToken(h.origin, 'bob@example.com');
      const response = await fetch(`${h.origin}/auth/logout`, { method: 'POST', headers: bearer(token) });
      assert.equal(response.status, 204);
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 401);
    });

    it('signs the CLI in with the device flow and trades the IdP tokens for a session', async () => {
      const config = (await (await fetch(`${h.origin}/api/auth/config`)).json()) as {
        issuer: string;
        clientId: string;
        scopes: string[];
      };
      assert.equal(config.issuer, `${h.origin}/idp`);
      const client = await oidc.discovery(new URL(config.issuer), config.clientId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      const device = await oidc.initiateDeviceAuthorization(client, { scope: config.scopes.join(' ') });
      // The user, in a browser: enter the code, confirm, pick the demo user.
      await approveDeviceCode(device.verification_uri, device.user_code, 'erin@example.com');
      const tokens = await oidc.pollDeviceAuthorizationGrant(client, device);
      assert.ok(tokens.id_token && tokens.refresh_token);

      const exchange = await fetch(`${h.origin}/api/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idToken: tokens.id_token, refreshToken: tokens.refresh_token }),
      });
      assert.equal(exchange.status, 201);
      const session = (await exchange.json()) as { token: string; user: { id: string } };
      assert.equal(session.user.id, 'erin@example.com');
      const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(session.token) })).json()) as {
        admin: boolean;
      };
      assert.equal(me.admin, true);

      // A forged ID token (signature broken) is refused and audited.
      const [head, payload] = (tokens.id_token as string).split('.');
      const forged = await fetch(`${h.origin}/api/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idToken: `${head}.${payload}.AAAA`, refreshToken: tokens.refresh_token }),
      });
      assert.equal(forged.status, 401);
      assert.equal(
        ((await forged.json()) as { error: { code: string } }).error.code,
        'PDK_AUTH_LOGIN_FAILED',
      );
    });
  });
}
