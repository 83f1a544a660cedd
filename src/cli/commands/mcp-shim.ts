import { ENV } from '../../core/index.ts';
import { MCP_SHIM_SOCKET, runMcpShim } from '../../supervisor/index.ts';
import type { Command } from '../command.ts';

const HELP = `Relays MCP between standard input/output and the supervisor's MCP gateway. Configure it
as the agent's one stdio MCP server inside a Paddock sandbox, e.g. for Claude Code:
  {"mcpServers": {"paddock": {"command": "paddock", "args": ["mcp-shim"]}}}
The gateway offers the tools of every MCP server the blueprint names, as SERVER__TOOL, and
checks each call (docs/mcp.md). The shim itself holds no configuration and no credentials.
\`paddock run\` names the native shim (/etc/paddock-mcp-shim, the same relay without starting
Node.js) in the harnesses' managed settings instead; this command is for other hosts.
It starts without loading the rest of the CLI (bin/paddock.js).


--socket (default: $PADDOCK_MCP_SOCKET, else ${MCP_SHIM_SOCKET}) is the gateway's unix socket.

Exit codes: 0 when the agent closed standard input; 1 when the gateway cannot be reached or
closed the connection first; 2 usage error.

Options:
      --socket PATH  the MCP gateway's unix socket
`;

/** \`paddock mcp-shim\`: the agent's stdio MCP server inside the sandbox. */
export const mcpShimCommand: Command = {
  name: 'mcp-shim',
  summary: "relay an agent's stdio MCP connection to the supervisor's MCP gateway",
  usage: '[--socket PATH]',
  help: HELP,
  options: { socket: { type: 'string' } },
  async run(ctx) {
    const socket = (ctx.values['socket'] as string | undefined) ?? ctx.env[ENV.mcpSocket] ?? MCP_SHIM_SOCKET;
    return runMcpShim(socket, { stdin: process.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
  },
};
