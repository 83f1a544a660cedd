import type { Command } from '../command.ts';

/**
 * A command as `paddock --help` and the README list it. The module that implements it
 * is imported only when the command runs, so `paddock validate` does not pay for
 * loading the sandbox, the gateway and Cedar. test/cli/commands-doc.test.ts checks that
 * each entry's name, summary and usage equal the loaded command's.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Argument synopsis after the command name, e.g. "[DIR]". */
  readonly usage: string;
  load(): Promise<Command>;
}

// Every CLI command, in the order `paddock --help` lists them.
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'up',
    summary: 'bring Paddock up locally: control plane, sign-in, console and a demo workspace',
    usage: '[--config DIR] [--data-dir DIR] [--port N] [--check]',
    load: async () => (await import('./up.ts')).upCommand,
  },
  {
    name: 'run',
    summary: 'run a command inside a sandbox built from a blueprint',
    usage:
      '--blueprint NAME|FILE [--config DIR] [--profile NAME] [--workdir DIR] [--audit FILE] [--secrets FILE [--secrets-key FILE]] -- CMD [ARGS...]',
    load: async () => (await import('./run.ts')).runCommand,
  },
  {
    name: 'connect',
    summary: 'attach this terminal to a shell in your workspace (or relay SSH with --stdio)',
    usage: '[--server URL] [--stdio] [WORKSPACE]',
    load: async () => (await import('./connect.ts')).connectCommand,
  },
  {
    name: 'login',
    summary: 'sign the CLI in to a control plane (device flow)',
    usage: '[--server URL] [--json]',
    load: async () => (await import('./login.ts')).loginCommand,
  },
  {
    name: 'logout',
    summary: "end the CLI's control-plane session",
    usage: '',
    load: async () => (await import('./login.ts')).logoutCommand,
  },
  {
    name: 'session list',
    summary: 'list active control-plane sessions (yours; an admin sees all)',
    usage: '[--server URL] [--json]',
    load: async () => (await import('./session.ts')).sessionListCommand,
  },
  {
    name: 'session revoke',
    summary: "revoke a control-plane session, or all of a user's",
    usage: 'SESSION_ID | --user EMAIL [--server URL]',
    load: async () => (await import('./session.ts')).sessionRevokeCommand,
  },
  {
    name: 'doctor',
    summary: 'check the kernel and host features the agent sandbox needs',
    usage: '[--json]',
    load: async () => (await import('./doctor.ts')).doctorCommand,
  },
  {
    name: 'validate',
    summary: 'check a desired-state directory and list every problem',
    usage: '[DIR]',
    load: async () => (await import('./validate.ts')).validateCommand,
  },
  {
    name: 'schema',
    summary: 'write the JSON Schema of each desired-state kind for editors',
    usage: '[--out DIR] [--kind KIND]',
    load: async () => (await import('./schema.ts')).schemaCommand,
  },
  {
    name: 'blueprint explain',
    summary: 'print the effective blueprint, each value with the file it comes from',
    usage: 'NAME|FILE',
    load: async () => (await import('./blueprint-explain.ts')).blueprintExplainCommand,
  },
  {
    name: 'policy explain',
    summary: "decide one request with a blueprint's Cedar bundle and print the determining policies",
    usage: '--blueprint NAME --action ACTION --resource TEXT',
    load: async () => (await import('./policy-explain.ts')).policyExplainCommand,
  },
  {
    name: 'audit verify',
    summary: 'check the hash chain of an audit log',
    usage: 'FILE',
    load: async () => (await import('./audit-verify.ts')).auditVerifyCommand,
  },
  {
    name: 'hook',
    summary: 'answer an agent harness tool-call hook from the workspace policy',
    usage: '<claude-code|codex|gemini> [--socket PATH]',
    load: async () => (await import('./hook.ts')).hookCommand,
  },
  {
    name: 'hook install',
    summary: 'write the managed harness settings that install the policy hook',
    usage: '--out DIR [--harness NAME]… [--client PATH]',
    load: async () => (await import('./hook.ts')).hookInstallCommand,
  },
  {
    name: 'review list',
    summary: 'list held calls awaiting or past review',
    usage: '[--status STATUS] [--json] [--socket PATH]',
    load: async () => (await import('./review.ts')).reviewListCommand,
  },
  {
    name: 'review show',
    summary: 'show a held call: who, what, the redacted arguments, its digest and approvals',
    usage: 'ID [--json] [--socket PATH]',
    load: async () => (await import('./review.ts')).reviewShowCommand,
  },
  {
    name: 'review approve',
    summary: 'approve a held call (single use, bound to its digest)',
    usage: 'ID --reason TEXT [--as USER] [--json] [--socket PATH]',
    load: async () => (await import('./review.ts')).reviewApproveCommand,
  },
  {
    name: 'review deny',
    summary: 'deny a held call',
    usage: 'ID --reason TEXT [--as USER] [--json] [--socket PATH]',
    load: async () => (await import('./review.ts')).reviewDenyCommand,
  },
  {
    name: 'mcp-shim',
    summary: "relay an agent's stdio MCP connection to the supervisor's MCP gateway",
    usage: '[--socket PATH]',
    load: async () => (await import('./mcp-shim.ts')).mcpShimCommand,
  },
];
