#!/usr/bin/env node
// Entry point of the `paddock` bin. Paddock is TypeScript run by Node.js 24's type
// stripping; npm scripts and npx put the pinned Node 24 first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `error PDK_NODE_VERSION: Paddock needs Node.js 24, this is ${process.version}\n` +
      '  fix: Run Paddock through npm (npm start, npx paddock), which uses the Node.js 24 pinned in devDependencies, or install Node.js 24 LTS.\n',
  );
  process.exit(1);
}
// `paddock hook <harness>` runs once per agent tool call: dispatch before anything loads the
// CLI (zod, yaml, TypeScript stripping) to keep it fast (src/supervisor/hooks/client.js).
const args = process.argv.slice(2);
if (args[0] === 'hook' && ['claude-code', 'codex', 'gemini'].includes(args[1])) {
  const { runHookClient } = await import('../src/supervisor/hooks/client.js');
  process.exit(await runHookClient(args.slice(1)));
}
// `paddock mcp-shim` is an agent's long-lived MCP server: a byte relay that needs none of the CLI.
if (args[0] === 'mcp-shim' && (args.length === 1 || (args.length === 3 && args[1] === '--socket'))) {
  const { MCP_SHIM_SOCKET, runMcpShim } = await import('../src/supervisor/mcp/shim.ts');
  const socket = args[2] ?? process.env.PADDOCK_MCP_SOCKET ?? MCP_SHIM_SOCKET;
  process.exitCode = await runMcpShim(socket, process);
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
}
