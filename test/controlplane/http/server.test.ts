import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { bearer, browserLogin, type Harness, loginToken, startHarness } from './harness.ts';

// The server itself (src/controlplane/http/server.ts): security headers, the console's static
// files with the SPA fallback, JSON errors, the access levels (owner, reviewer, admin) on routes
// registered from outside, and WebSocket upgrades with their Origin and access checks.

describe('control-plane server', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'paddock-http-'));
  const consoleDir = join(dir, 'console');
  before(async () => {
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(consoleDir, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    h = await startHarness({
      storeUrl: `sqlite:${join(dir, 'store.db')}`,
      consoleDir,
      sweepIntervalMs: 60_000,
    });
    await h.store.createUser({ id: 'alice@example.com', displayName: 'Alice' });
    await h.store.createWorkspace({
      id: 'ws-alice',
      owner: 'alice@example.com',
      profile: 'p',
      provider: 'local',
      state: 'running',
    });
    h.server.registerRoutes([
      {
        method: 'GET',
        path: '/api/test/workspaces/:workspaceId',
        access: 'owner',
        adminAllowed: true,
        handler: ({ params }) => ({ json: params }),
      },
      {
        method: 'GET',
        path: '/api/test/strict/:workspaceId',
        access: 'owner',
        handler: () => ({ json: {} }),
      },
      { method: 'GET', path: '/api/test/admin', access: 'admin', handler: () => ({ json: {} }) },
      { method: 'GET', path: '/api/test/reviewer', access: 'reviewer', handler: () => ({ json: {} }) },
    ]);
    h.server.registerUpgrade({
      path: '/api/test/workspaces/:workspaceId/echo',
      access: 'owner',
      handle: (socket, ctx) => {
        socket.send(`hello ${ctx.principal?.userId} via ${ctx.via}`);
        socket.on('message', (data) => socket.send(String(data)));
      },
    });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the security headers and serves the console with an SPA fallback', async () => {
    const index = await fetch(`${h.origin}/workspaces/ws-alice`);
    assert.equal(index.status, 200);
    assert.match(await index.text(), /id="root"/);
    const csp = index.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(csp.includes(`connect-src 'self' ws://${new URL(h.origin).host}`));
    assert.equal(index.headers.get('x-frame-options'), 'DENY');
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('strict-transport-security'), null); // plain http here
    const asset = await fetch(`${h.origin}/assets/app-1234.js`);
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  it('never serves a file outside the console directory', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await fetch(`${h.origin}${path}`);
      assert.doesNotMatch(await response.text(), /outside/, path);
    }
  });

  it('answers unknown routes and methods with coded JSON errors', async () => {
    const missing = await fetch(`${h.origin}/api/nope`);
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { error: { code: string; message: string; fix: string } };
    assert.equal(body.error.code, 'PDK_HTTP_NOT_FOUND');
    assert.ok(body.error.fix.length > 0);
    const method = await fetch(`${h.origin}/api/me`, { method: 'PUT' });
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET');
  });

  it('refuses a form-encoded or oversized body', async () => {
    const token = await loginToken(h.origin, 'bob@example.com');
    const form = await fetch(`${h.origin}/api/auth/token`, {
      method: 'POST',
      headers: bearer(token, { 'content-type': 'application/x-www-form-urlencoded' }),
      body: 'idToken=x&refreshToken=y',
    });
    assert.equal(form.status, 400);
    const big = await fetch(`${h.origin}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken: 'x'.repeat(70_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'PDK_HTTP_TOO_LARGE');
  });

  it('enforces owner, admin and reviewer access on registered routes', async () => {
    const alice = await loginToken(h.origin, 'alice@example.com');
    const carol = await loginToken(h.origin, 'carol@example.com');
    const bob = await loginToken(h.origin, 'bob@example.com');
    const erin = await loginToken(h.origin, 'erin@example.com');
    const status = async (path: string, token?: string) =>
      (await fetch(`${h.origin}${path}`, { headers: token ? bearer(token) : {} })).status;
    assert.deepEqual(
      [
        await status('/api/test/workspaces/ws-alice'),
        await status('/api/test/workspaces/ws-alice', carol),
        await status('/api/test/workspaces/ws-alice', alice),
        await status('/api/test/workspaces/ws-alice', erin),
        await status('/api/test/workspaces/ws-none', carol),
        await status('/api/test/strict/ws-alice', erin),
      ],
      [401, 403, 200, 200, 403, 403],
    );
    assert.deepEqual(
      [await status('/api/test/admin', alice), await status('/api/test/admin', erin)],
      [403, 200],
    );
    assert.deepEqual(
      [
        await status('/api/test/reviewer', carol),
        await status('/api/test/reviewer', bob),
        await status('/api/test/reviewer', erin),
      ],
      [403, 200, 403],
    );
  });

  const wsUrl = (path: string) => `${h.origin.replace('http', 'ws')}${path}`;
  const opened = (socket: WebSocket) =>
    new Promise<string>((resolve, reject) => {
      socket.once('message', (data) => resolve(String(data)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
      socket.once('error', reject);
    });

  it('upgrades WebSockets only for the owner, from the console origin or with a bearer token', async () => {
    const alice = await loginToken(h.origin, 'alice@example.com');
    const carol = await loginToken(h.origin, 'carol@example.com');
    const path = '/api/test/workspaces/ws-alice/echo';
    const good = new WebSocket(wsUrl(path), { headers: bearer(alice) });
    assert.equal(await opened(good), 'hello alice@example.com via bearer');
    good.close();
    await assert.rejects(opened(new WebSocket(wsUrl(path), { headers: bearer(carol) })), /status 403/);
    await assert.rejects(opened(new WebSocket(wsUrl(path))), /status 401/);
    await assert.rejects(
      opened(new WebSocket(wsUrl(path), { headers: bearer(alice), origin: 'http://evil.example' })),
      /status 403/,
    );
    const cookie = `paddock_session=${alice}`;
    await assert.rejects(opened(new WebSocket(wsUrl(path), { headers: { cookie } })), /status 403/);
    const viaCookie = new WebSocket(wsUrl(path), { headers: { cookie }, origin: h.origin });
    assert.equal(await opened(viaCookie), 'hello alice@example.com via cookie');
    viaCookie.close();
  });

  it('closes a live WebSocket as soon as its session is revoked', async () => {
    const { jar } = await browserLogin(h.origin, 'alice@example.com');
    const token = jar.cookies.get('paddock_session') as string;
    const socket = new WebSocket(wsUrl('/api/test/workspaces/ws-alice/echo'), { headers: bearer(token) });
    await opened(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const revoke = await fetch(`${h.origin}/api/users/alice@example.com/sessions`, {
      method: 'DELETE',
      headers: bearer(token),
    });
    assert.equal(revoke.status, 200);
    const started = Date.now();
    assert.equal(await closed, 4401);
    assert.ok(Date.now() - started < 5000);
  });
});
