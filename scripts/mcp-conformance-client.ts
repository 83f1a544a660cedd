// The client under test for the MCP conformance suite's CLIENT scenarios (run by
// `npm run conformance`, which passes this file as --command): the suite starts a test server
// and appends its URL; this starts a Paddock MCP gateway fronting that URL as a remote server,
// and an agent (the SDK Client, in process) that lists the tools through the gateway and calls
// each. What the suite checks is therefore the gateway's own upstream client.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createLogger } from '../src/core/index.ts';
import { createMcpGateway } from '../src/supervisor/index.ts';
import { conformanceDecide } from './mcp-conformance.ts';

/** The tools the client scenarios' servers offer. */
const ALLOWED = ['add_numbers', 'test_reconnection', 'test_client_elicitation_defaults'];

/** Arguments for the tools the client scenarios offer. */
const ARGUMENTS: Readonly<Record<string, Record<string, unknown>>> = { add_numbers: { a: 5, b: 3 } };

async function main(url: string | undefined): Promise<number> {
  if (!url) {
    process.stderr.write('usage: node scripts/mcp-conformance-client.ts SERVER_URL\n');
    return 2;
  }
  const context = {
    workspaceId: 'conformance',
    sessionId: 'conformance',
    bundle: { id: 'conformance', version: '1' },
  };
  const gateway = createMcpGateway({
    servers: [
      {
        name: 'conformance',
        allow: ALLOWED,
        toolPrefix: '',
        connection: { transport: 'http', url },
      },
    ],
    decide: conformanceDecide('conformance', ALLOWED),
    onEvent: () => {},
    context: () => context,
    logger: createLogger('mcp', { level: 'error' }),
  });
  const [agentSide, gatewaySide] = InMemoryTransport.createLinkedPair();
  await gateway.connect(gatewaySide);
  const agent = new Client({ name: 'conformance-agent', version: '1.0.0' });
  try {
    await agent.connect(agentSide);
    const { tools } = await agent.listTools();
    for (const tool of tools) {
      const result = await agent.callTool({ name: tool.name, arguments: ARGUMENTS[tool.name] ?? {} });
      process.stdout.write(`${tool.name}: ${JSON.stringify(result.content)}\n`);
    }
    return 0;
  } finally {
    await agent.close();
    await gateway.close();
  }
}

process.exitCode = await main(process.argv[2]);
