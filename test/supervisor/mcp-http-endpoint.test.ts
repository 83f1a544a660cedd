import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createLogger, isPaddockError } from '../../src/core/index.ts';
import { createMcpGateway } from '../../src/supervisor/index.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';
import { CONTEXT, type GatewayHarness, httpPlan, startGateway, testDecide } from './mcp-support.ts';

// The gateway's Streamable HTTP endpoint refuses what is not its agent before MCP sees it: a
// wrong path, a Host or Origin naming another site (DNS rebinding), a missing or wrong token;
// it bounds sessions and closes idle ones.

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

function post(
  url: string,
  headers: Record<string, string>,
  body = INITIALIZE,
  method = 'POST',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        // An initialize answered over SSE stays open: the first event is all we need.
        if (text.includes('\n\n')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

describe('MCP gateway: HTTP endpoint', () => {
  let upstream: HttpTestServer;
  let harness: GatewayHarness;
  let auth: Record<string, string>;

  before(async () => {
    upstream = await startHttpTestServer();
    harness = await startGateway({ servers: [httpPlan('github', upstream.url)] });
    auth = { authorization: `Bearer ${harness.token}` };
  });
  after(async () => {
    await harness.close();
    await upstream.close();
  });

  it('accepts its agent and answers initialize with a session id', async () => {
    const answer = await post(harness.url, auth);
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['mcp-session-id']), /^[0-9a-f-]{36}$/);
    assert.match(answer.body, /"serverInfo":\{"name":"paddock-mcp-gateway"/);
  });

  it('refuses a missing or wrong token with 401', async () => {
    assert.equal((await post(harness.url, {})).status, 401);
    assert.equal((await post(harness.url, { authorization: 'Bearer nope' })).status, 401);
  });

  it('refuses a foreign Host or Origin with 403 (DNS rebinding)', async () => {
    const port = new URL(harness.url).port;
    assert.equal((await post(harness.url, { ...auth, host: `evil.example.com:${port}` })).status, 403);
    assert.equal((await post(harness.url, { ...auth, origin: 'http://evil.example.com' })).status, 403);
    assert.equal((await post(harness.url, { ...auth, origin: `http://localhost:${port}` })).status, 200);
  });

  it('refuses other paths, requests without a session, and unknown sessions', async () => {
    assert.equal((await post(harness.url.replace('/mcp', '/other'), auth)).status, 404);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal((await post(harness.url, auth, list)).status, 400);
    assert.equal(
      (await post(harness.url, { ...auth, 'mcp-session-id': 'no-such-session' }, list)).status,
      404,
    );
  });

  it('bounds the sessions it serves', async () => {
    const bounded = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      limits: { maxSessions: 1 },
    });
    try {
      const headers = { authorization: `Bearer ${bounded.token}` };
      assert.equal((await post(bounded.url, headers)).status, 200);
      assert.equal((await post(bounded.url, headers)).status, 503);
      assert.ok(bounded.logs.some((line) => line.includes('mcp session limit reached')));
    } finally {
      await bounded.close();
    }
  });

  it('closes a session left idle, with its servers', async () => {
    const idle = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      limits: { sessionIdleMs: 1000 },
    });
    try {
      const client = await idle.client();
      await client.listTools();
      assert.equal(idle.gateway.sessions, 1);
      await new Promise((resolve) => setTimeout(resolve, 2600));
      assert.equal(idle.gateway.sessions, 0);
    } finally {
      await idle.close();
    }
  });

  it('will not listen without a token unless told so explicitly', async () => {
    const gateway = createMcpGateway({
      servers: [],
      decide: testDecide(),
      onEvent: () => {},
      context: () => CONTEXT,
      logger: createLogger('mcp', { write: () => {} }),
    });
    await assert.rejects(
      gateway.listenHttp({ host: '127.0.0.1', port: 0 }),
      (error) => isPaddockError(error, 'PDK_MCP_CONFIG_INVALID') && /needs a token/.test(error.message),
    );
    const open = await gateway.listenHttp({ host: '127.0.0.1', port: 0, allowUnauthenticatedClients: true });
    assert.equal((await post(open.url, {})).status, 200);
    await gateway.close();
  });
});
