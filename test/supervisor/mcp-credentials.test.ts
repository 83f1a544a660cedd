import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  openEncryptedFileSecretStore,
  type SecretStore,
  writeEncryptedFileSecretStore,
} from '../../src/supervisor/egress/index.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';
import { httpPlan, startGateway, textOf } from './mcp-support.ts';

// Remote servers get the service's credential from the secret store, added by the gateway to
// every request it makes. The agent talks only to the gateway: nothing it receives (responses,
// tool lists, results, errors) carries the secret, and its own token never goes upstream.

const SECRET = `pdk-canary-mcp-${randomBytes(16).toString('hex')}`;

describe('MCP gateway: credentials for remote servers', () => {
  let upstream: HttpTestServer;
  let secrets: SecretStore;
  const dir = mkdtempSync(join(tmpdir(), 'pdk-mcp-secrets-'));

  before(async () => {
    upstream = await startHttpTestServer();
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    await writeEncryptedFileSecretStore({
      file: join(dir, 'secrets.json'),
      keyFile,
      secrets: { 'github-token': SECRET },
    });
    secrets = await openEncryptedFileSecretStore({ file: join(dir, 'secrets.json'), keyFile });
  });
  after(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('injects the credential on every upstream request; the agent never sees it', async () => {
    const harness = await startGateway({
      servers: [httpPlan('github', upstream.url, { credential: 'github-token' })],
      secrets,
    });
    const received: string[] = [];
    // A client whose fetch records every byte the gateway sends back to the agent.
    const client = new Client({ name: 'recording-agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(harness.url), {
        requestInit: { headers: { authorization: `Bearer ${harness.token}` } },
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          received.push(JSON.stringify([...response.headers]));
          const body = await response.clone().text();
          received.push(body);
          return response;
        },
      }),
    );
    try {
      upstream.requests.length = 0;
      await client.listTools();
      const result = await client.callTool({ name: 'github__environment', arguments: { name: 'X' } });
      assert.equal(result.isError, true, 'environment is not allowed');
      assert.equal(
        textOf(await client.callTool({ name: 'github__echo', arguments: { text: 'hi' } })),
        'echo: hi',
      );

      assert.ok(upstream.requests.length >= 3);
      for (const headers of upstream.requests) {
        assert.equal(headers.authorization, `Bearer ${SECRET}`);
      }
      const everything = received.join('\n');
      assert.ok(everything.length > 0);
      assert.ok(!everything.includes(SECRET), 'the secret reached the agent');
      assert.ok(!JSON.stringify(harness.events).includes(SECRET), 'the secret reached the audit trail');
      assert.ok(!harness.logs.join('\n').includes(SECRET), 'the secret reached the log');
      assert.ok(
        !JSON.stringify(upstream.requests).includes(harness.token),
        "the agent's gateway token went upstream",
      );
    } finally {
      await client.close();
      await harness.close();
    }
  });

  it('uses the service credentialHeader as given, without a Bearer prefix', async () => {
    const harness = await startGateway({
      servers: [
        httpPlan('github', upstream.url, { credential: 'github-token', credentialHeader: 'x-api-key' }),
      ],
      secrets,
    });
    try {
      upstream.requests.length = 0;
      await (await harness.client()).listTools();
      assert.ok(upstream.requests.every((headers) => headers['x-api-key'] === SECRET));
      assert.ok(upstream.requests.every((headers) => headers.authorization === undefined));
    } finally {
      await harness.close();
    }
  });

  it('reports a server whose secret is missing as unavailable, naming no secret value', async () => {
    const harness = await startGateway({
      servers: [httpPlan('github', upstream.url, { credential: 'no-such-secret' })],
      secrets,
    });
    try {
      const client = await harness.client();
      assert.deepEqual((await client.listTools()).tools, []);
      const result = await client.callTool({ name: 'github__echo', arguments: { text: 'hi' } });
      assert.equal(result.isError, true);
      assert.equal(
        (result.structuredContent as { paddock: { reason: string } }).paddock.reason,
        'server_unavailable',
      );
      assert.match(textOf(result), /MCP server "github" is unavailable/);
      assert.ok(
        harness.logs.some(
          (line) => line.includes('mcp server unavailable') && line.includes('no-such-secret'),
        ),
      );
    } finally {
      await harness.close();
    }
  });
});
