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
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
