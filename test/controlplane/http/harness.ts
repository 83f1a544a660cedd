import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { type ControlPlaneServer, createControlPlaneServer } from '../../../src/controlplane/http/server.ts';
import { RecentActivity } from '../../../src/controlplane/activity/recent-activity.ts';
import { wireWorkspaces } from '../../../src/controlplane/local-control-plane.ts';
import type { SessionKey } from '../../../src/controlplane/sessions/session-key.ts';
import type { Clock } from '../../../src/core/clock.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';

// A real control plane on 127.0.0.1 for the HTTP tests: the example platform's desired state
// (embedded IdP with its demo users, review gates naming appsec, engineering-leads and
// support-leads), a real store, and an audit sink that checks every event against OCSF 1.8.0.

export const EXAMPLE_PLATFORM = resolve(import.meta.dirname, '../../../examples/platform');

let cachedState: DesiredState | undefined;
export async function exampleState(): Promise<DesiredState> {
  cachedState ??= (await requireValidRepository(EXAMPLE_PLATFORM)).state;
  return cachedState;
}

/** A clock tests move by hand; starts at the real time so the store's checks hold. */
export function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.now();
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface Harness {
  readonly server: ControlPlaneServer;
  readonly store: Store;
  readonly origin: string;
  readonly events: Record<string, unknown>[];
  /** The workspace routes' data directory (recordings live in DATA_DIR/recordings). */
  readonly dataDir: string;
  /** event_code (and status_code) of every audit event so far. */
  codes(): string[];
  close(): Promise<void>;
}

export async function startHarness(options: {
  readonly storeUrl: string;
  readonly clock?: Clock;
  readonly state?: DesiredState;
  readonly env?: NodeJS.ProcessEnv;
  readonly consoleDir?: string;
  readonly refreshIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  readonly port?: number;
  /** Seals the stored refresh tokens; replicas (and a restart) that share sessions share it. */
  readonly sessionKey?: SessionKey;
}): Promise<Harness> {
  const store = await openStore({ url: options.storeUrl, clock: options.clock });
  const events: Record<string, unknown>[] = [];
  const server = await createControlPlaneServer({
    store,
    state: options.state ?? (await exampleState()),
    dataDir: '/nonexistent',
    audit: async (event) => {
      assertValidOcsf(event);
      events.push(event);
    },
    clock: options.clock,
    env: options.env ?? {},
    consoleDir: options.consoleDir,
    refreshIntervalMs: options.refreshIntervalMs,
    sweepIntervalMs: options.sweepIntervalMs,
    port: options.port,
    ...(options.sessionKey ? { sessionKey: options.sessionKey } : {}),
  }).catch(async (error) => {
    await store.close();
    throw error;
  });
  // The workspace routes as `paddock up` mounts them (channel, local provider, lifecycle,
  // broker), over a data directory of the test's own: the matrix must see every route.
  const dataDir = mkdtempSync(join(tmpdir(), 'paddock-http-'));
  const workspaces = await wireWorkspaces({
    server,
    store,
    state: options.state ?? (await exampleState()),
    configDir: EXAMPLE_PLATFORM,
    dataDir,
    audit: async (event) => {
      assertValidOcsf(event);
      events.push(event);
    },
    activity: new RecentActivity(),
  });
  return {
    server,
    store,
    origin: server.publicOrigin,
    events,
    codes: () =>
      events.map((event) => {
        const code = (event['metadata'] as { event_code: string }).event_code;
        return event['status_code'] ? `${code} ${String(event['status_code'])}` : code;
      }),
    dataDir,
    async close() {
      await workspaces.close();
      await server.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A cookie jar for one origin (paths ignored: the tests know where each cookie goes). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, at).trim();
      const value = (pair as string).slice(at + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** fetch without following redirects, sending and keeping the jar's cookies. */
export async function step(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (jar.cookies.size > 0) headers.set('cookie', jar.header());
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(response);
  return response;
}

function location(response: Response, base: string): string {
  const target = response.headers.get('location');
  assert.ok(target, `expected a redirect, got ${response.status}`);
  return new URL(target, base).href;
}

/**
 * The whole browser sign-in, redirect by redirect: /auth/login → the IdP's authorization endpoint
 * (PKCE, state, nonce) → its login interaction → pick `email` on the dev login form → back to
 * /auth/callback → the session cookie. Resolves to the jar (holding paddock_session) and the
 * callback's response.
 */
export async function browserLogin(
  origin: string,
  email: string,
  options: { returnTo?: string; jar?: CookieJar; tamper?: (callbackUrl: URL, jar: CookieJar) => void } = {},
): Promise<{ jar: CookieJar; callback: Response }> {
  const jar = options.jar ?? new CookieJar();
  const start = await step(
    jar,
    `${origin}/auth/login${options.returnTo ? `?return=${encodeURIComponent(options.returnTo)}` : ''}`,
  );
  assert.equal(start.status, 302);
  const authorize = new URL(location(start, origin));
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  let response = await step(jar, authorize.href);
  let url = location(response, authorize.href);
  assert.match(url, /\/interaction\//);
  const page = await step(jar, url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Development identity provider/);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'the login page has a form');
  response = await step(
    jar,
    new URL(
      action.replace(/&#(\d+);/g, (_m, c) => String.fromCharCode(Number(c))),
      url,
    ).href,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email }).toString(),
    },
  );
  assert.equal(response.status, 303, `login POST: ${response.status}`);
  url = location(response, url);
  // The IdP resumes the authorization and redirects to the callback (one or two hops).
  for (let hop = 0; hop < 5 && !url.startsWith(`${origin}/auth/callback`); hop++) {
    response = await step(jar, url);
    url = location(response, url);
  }
  const callbackUrl = new URL(url);
  options.tamper?.(callbackUrl, jar);
  const callback = await step(jar, callbackUrl.href);
  return { jar, callback };
}

/** Signs in through the browser flow and returns the session token. */
export async function loginToken(origin: string, email: string): Promise<string> {
  const { jar, callback } = await browserLogin(origin, email);
  assert.equal(callback.status, 302);
  const token = jar.cookies.get('paddock_session');
  assert.ok(token, `no session cookie for ${email}: ${callback.headers.get('location')}`);
  return token;
}

export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

function formAction(html: string, formId: string): string | undefined {
  for (const tag of html.match(/<form[^>]*>/g) ?? []) {
    if (formId && !tag.includes(`id="${formId}"`)) continue;
    const action = /action="([^"]+)"/.exec(tag)?.[1];
    if (action) return action.replace(/&#(\d+);/g, (_m, c) => String.fromCharCode(Number(c)));
  }
  return undefined;
}

/**
 * The user's half of the device flow, in a "browser": open the verification page, enter the
 * code, confirm it, pick the demo user on the login page, and check the success page.
 */
export async function approveDeviceCode(
  verificationUri: string,
  userCode: string,
  email: string,
): Promise<void> {
  const jar = new CookieJar();
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const inputHtml = await (await step(jar, verificationUri)).text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(inputHtml)?.[1] as string;
  // The complete URI (code included) answers with a self-submitting form instead of the input page.
  if (!/Submitting Callback/.test(inputHtml)) assert.match(inputHtml, /Development identity provider/);
  const inputAction =
    formAction(inputHtml, 'op.deviceInputForm') ?? formAction(inputHtml, '') ?? verificationUri;
  let response = await step(jar, new URL(inputAction, verificationUri).href, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ xsrf, user_code: userCode }).toString(),
  });
  const confirmHtml = await response.text();
  assert.match(confirmHtml, /Confirm the sign-in/);
  const confirmXsrf = /name="xsrf" value="([^"]+)"/.exec(confirmHtml)?.[1] as string;
  const confirmAction = formAction(confirmHtml, 'op.deviceConfirmForm');
  assert.ok(confirmAction, 'the confirmation page has a form');
  response = await step(jar, new URL(confirmAction, verificationUri).href, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ xsrf: confirmXsrf, user_code: userCode, confirm: 'yes' }).toString(),
  });
  let url = location(response, verificationUri);
  const page = await (await step(jar, url)).text();
  const action = formAction(page, '') as string;
  response = await step(jar, new URL(action, url).href, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ email }).toString(),
  });
  for (let hop = 0; hop < 5 && response.status >= 300 && response.status < 400; hop++) {
    url = location(response, url);
    response = await step(jar, url);
  }
  assert.match(await response.text(), /The CLI is signed in/);
}
