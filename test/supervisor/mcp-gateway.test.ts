import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { DECISION_META_KEY } from '../../src/supervisor/index.ts';
import { assertValidOcsf } from '../audit/ocsf-schema.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';
import { CONTEXT, eventsNamed, type GatewayHarness, httpPlan, startGateway, textOf } from './mcp-support.ts';

// The MCP gateway between a real SDK Client and a real SDK McpServer (Streamable HTTP on
// loopback both sides): namespacing, tools/list filtering, allowed and denied calls, argument
// checks, and the audit trail of each.

describe('MCP gateway: tools', () => {
  let upstream: HttpTestServer;
  let harness: GatewayHarness;

  before(async () => {
    upstream = await startHttpTestServer();
    harness = await startGateway({ servers: [httpPlan('github', upstream.url)] });
  });
  after(async () => {
    await harness.close();
    await upstream.close();
  });

  it('lists only the allowed tools, under SERVER__TOOL, with their definitions', async () => {
    const client = await harness.client();
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), [
      'github__change_echo',
      'github__count_files',
      'github__create_issue',
      'github__echo',
      'github__read_file',
      'github__slow_task',
    ]);
    const echo = tools.find((tool) => tool.name === 'github__echo');
    assert.equal(echo?.description, 'Echoes the text back.');
    assert.deepEqual(Object.keys(echo?.inputSchema.properties ?? {}), ['text']);
    assert.ok(tools.find((tool) => tool.name === 'github__count_files')?.outputSchema);
    assert.equal(client.getServerVersion()?.name, 'paddock-mcp-gateway');
  });

  it('forwards an allowed call and returns the server result, audited as mcp.allowed', async () => {
    const client = await harness.client();
    const result = await client.callTool({ name: 'github__echo', arguments: { text: 'hello' } });
    assert.equal(result.isError, undefined);
    assert.equal(textOf(result), 'echo: hello');
    const structured = await client.callTool({
      name: 'github__count_files',
      arguments: { dir: '/workspace' },
    });
    assert.deepEqual(structured.structuredContent, { count: 3 });

    const event = eventsNamed(harness.events, 'mcp.allowed').find(
      (candidate) => (candidate['api'] as { operation: string }).operation === 'echo',
    );
    assert.ok(event, 'an mcp.allowed event for echo');
    assertValidOcsf(event);
    assert.equal(event.class_uid, 6003);
    assert.deepEqual((event['api'] as Record<string, unknown>)['service'], { name: 'github' });
    assert.deepEqual((event['api'] as { request: { data: unknown } }).request.data, { text: 'hello' });
    assert.equal(event['status_code'], 'tool_allowed');
    assert.deepEqual(event['policy'], {
      uid: CONTEXT.bundle.id,
      version: CONTEXT.bundle.version,
      type: 'Paddock policy bundle',
      is_applied: true,
    });
  });

  it('refuses a tool the blueprint does not allow as a tool error, and a name no server has as unknown', async () => {
    const client = await harness.client();
    const refused = await client.callTool({ name: 'github__drop_database', arguments: {} });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /github__drop_database is not a tool this workspace's blueprint allows/);
    assert.deepEqual((refused.structuredContent as { paddock: unknown }).paddock, {
      decision: 'deny',
      reason: 'tool_not_allowed',
      tool: 'github__drop_database',
      server: 'github',
      retry: 'do-not-retry',
    });
    await assert.rejects(
      client.callTool({ name: 'nothing__here', arguments: {} }),
      (error: unknown) =>
        error instanceof McpError &&
        error.code === -32602 &&
        /Unknown tool: nothing__here/.test(error.message),
    );
    const denied = eventsNamed(harness.events, 'mcp.denied').map((event) => event['status_code']);
    assert.ok(denied.includes('tool_not_allowed') && denied.includes('unknown_tool'), String(denied));
  });

  it('denies on the arguments: the PDP sees them, the agent gets the rule that denied', async () => {
    const client = await harness.client();
    const allowed = await client.callTool({
      name: 'github__read_file',
      arguments: { path: '/workspace/README.md' },
    });
    assert.equal(textOf(allowed), 'contents of /workspace/README.md');

    const denied = await client.callTool({ name: 'github__read_file', arguments: { path: '/etc/shadow' } });
    assert.equal(denied.isError, true);
    assert.equal(
      textOf(denied),
      'Paddock denied this call to github__read_file (policy extra:policies/mcp.cedar#no-etc-reads): path_forbidden. Do not retry the identical call; it will be denied again. Ask the user if the task needs it.',
    );
    assert.deepEqual((denied.structuredContent as { paddock: unknown }).paddock, {
      decision: 'deny',
      reason: 'path_forbidden',
      tool: 'github__read_file',
      server: 'github',
      rule: 'extra:policies/mcp.cedar#no-etc-reads',
      policyIds: ['extra:policies/mcp.cedar#no-etc-reads'],
      retry: 'do-not-retry',
    });
    const event = eventsNamed(harness.events, 'mcp.denied').find(
      (candidate) => candidate['status_code'] === 'path_forbidden',
    );
    assert.ok(event);
    assertValidOcsf(event);
    assert.equal(
      (event['authorizations'] as { policy: { uid: string } }[])[0]?.policy.uid,
      'extra:policies/mcp.cedar#no-etc-reads',
    );
  });

  it('puts the refusal in _meta only for a tool with an output schema, so clients can still validate', async () => {
    const strict = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      decide: () => ({ decision: 'deny', policyIds: ['p1'], reason: 'policy_forbids' }),
    });
    try {
      const client = await strict.client();
      await client.listTools();
      const denied = await client.callTool({ name: 'github__count_files', arguments: { dir: '/' } });
      assert.equal(denied.isError, true);
      assert.equal(denied.structuredContent, undefined);
      assert.equal(
        (denied._meta?.[DECISION_META_KEY] as { reason?: string } | undefined)?.reason,
        'policy_forbids',
      );
    } finally {
      await strict.close();
    }
  });

  it('fails closed when the decision point throws', async () => {
    const broken = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      decide: () => {
        throw new Error('cedar exploded');
      },
    });
    try {
      const client = await broken.client();
      const result = await client.callTool({ name: 'github__echo', arguments: { text: 'x' } });
      assert.equal(result.isError, true);
      assert.equal((result.structuredContent as { paddock: { reason: string } }).paddock.reason, 'pdp_error');
      assert.ok(broken.logs.some((line) => line.includes('policy decision failed; call denied')));
    } finally {
      await broken.close();
    }
  });

  it('refuses arguments over the size limit without asking the PDP', async () => {
    let asked = 0;
    const small = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      limits: { maxArgumentBytes: 64 },
      decide: () => {
        asked++;
        return { decision: 'allow', policyIds: [], reason: 'tool_allowed' };
      },
    });
    try {
      const client = await small.client();
      const result = await client.callTool({ name: 'github__echo', arguments: { text: 'x'.repeat(100) } });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /its arguments are 111 bytes of JSON, over the 64-byte limit/);
      assert.equal(asked, 0);
    } finally {
      await small.close();
    }
  });

  it('records arguments as the blueprint logging says: none leaves them out', async () => {
    const quiet = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      logging: { toolArguments: 'none', redact: [] },
    });
    try {
      const client = await quiet.client();
      await client.callTool({ name: 'github__echo', arguments: { text: 'private' } });
      const event = eventsNamed(quiet.events, 'mcp.allowed')[0];
      assert.ok(event);
      assertValidOcsf(event);
      const request = (event['api'] as { request: Record<string, unknown> }).request;
      assert.equal(request['data'], undefined);
      assert.match(String(request['uid']), /^\d+$/, 'the JSON-RPC id');
      assert.ok(!JSON.stringify(quiet.events).includes('private'));
    } finally {
      await quiet.close();
    }
  });

  it('forwards progress and log messages of a call to the agent that made it', async () => {
    const client = await harness.client();
    const logs: unknown[] = [];
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(notification.params);
    });
    await client.setLoggingLevel('info');
    const progress: number[] = [];
    const result = await client.callTool({ name: 'github__slow_task', arguments: {} }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    assert.equal(textOf(result), 'done');
    assert.deepEqual(progress, [1, 2, 3]);
    // On the call's own stream, so they are in before its result.
    assert.deepEqual(
      logs,
      [1, 2, 3].map((step) => ({ level: 'info', data: `step ${step}`, logger: 'github' })),
    );
  });
});
