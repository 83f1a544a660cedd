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
    usage: '[--config DIR] [--data-dir DIR] [--port N] [--check] [--secrets FILE [--secrets-key FILE]]',
    load: async () => (await import('./up.ts')).upCommand,
  },
  {
    name: 'serve',
    summary: 'run the control plane as one replica on a cluster (PostgreSQL, leader-elected reconciler)',
    usage:
      '[--config DIR] [--data-dir DIR] [--host ADDR] [--port N] [--public-url URL] [--approved-by NAME] [--secrets FILE [--secrets-key FILE]]',
    load: async () => (await import('./serve.ts')).serveCommand,
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
    name: 'plan',
    summary:
      'show what the desired state at a commit would change (workspaces, bundles, users), and replay decisions',
    usage: '[--config DIR | --repo URL [--ref REF]] [--replay DAYS] [--json]',
    load: async () => (await import('./plan.ts')).planCommand,
  },
  {
    name: 'render',
    summary: "render a provider's manifests for the desired state into a directory",
    usage: 'TARGET --out DIR [--config DIR] [--settings FILE] [--release-roots DIR]',
    load: async () => (await import('./render.ts')).renderCommand,
  },
  {
    name: 'apply',
    summary: 'carry out the plan: create, rebuild, revoke workspaces and release bundles (resumable)',
    usage: '[--config DIR | --repo URL [--ref REF]] [--approved-by ID] [--watch]',
    load: async () => (await import('./apply.ts')).applyCommand,
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
    name: 'policy status',
    summary: "show each channel's release and each workspace's applied bundle, flagging drift",
    usage: '[--data-dir DIR | --database-url URL] [--json]',
    load: async () => (await import('./policy-status.ts')).policyStatusCommand,
  },
  {
    name: 'policy release',
    summary: 'compile the desired state at a Git commit and release its bundles to a channel',
    usage: '[--repo DIR] [--commit REV] [--channel NAME] [--sign-with FILE]… [--data-dir DIR] [--json]',
    load: async () => (await import('./policy-status.ts')).policyReleaseCommand,
  },
  {
    name: 'policy promote',
    summary: "promote a channel's release to the next channel (same bundle hashes, re-signed)",
    usage:
      '[--from NAME] [--to NAME] [--blueprint NAME]… [--sign-with FILE]… [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
    load: async () => (await import('./policy-status.ts')).policyPromoteCommand,
  },
  {
    name: 'policy cosign',
    summary: 'add a signature to a release waiting for more signers, and publish it at the threshold',
    usage:
      '[--channel NAME] --sign-with FILE… [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
    load: async () => (await import('./policy-status.ts')).policyCosignCommand,
  },
  {
    name: 'policy rotate-root',
    summary: "replace a channel's signers with a new root signed by the current and the new keys",
    usage:
      '[--channel NAME] [--sign-with FILE]… --new-signer FILE… [--threshold N] [--data-dir DIR | --database-url URL [--release-keys DIR]] [--json]',
    load: async () => (await import('./policy-status.ts')).policyRotateRootCommand,
  },
  {
    name: 'audit verify',
    summary: "check an audit log's hash chain, or the central store's chains and signed checkpoints",
    usage: '[FILE] [--data-dir DIR] [--store-url URL] [--public-key FILE]… [--json]',
    load: async () => (await import('./audit-verify.ts')).auditVerifyCommand,
  },
  {
    name: 'audit tail',
    summary: 'print the newest audit events, and with --follow new ones as they are stored',
    usage: '[-n N] [--follow] [--data-dir DIR] [--store-url URL] [--json]',
    load: async () => (await import('./audit-tail.ts')).auditTailCommand,
  },
  {
    name: 'audit search',
    summary: 'find audit events by user, workspace, class, event, decision and time range',
    usage:
      '[--user USER] [--workspace ID] [--class N] [--event NAME] [--decision D] [--since TIME] [--until TIME] [--limit N] [--json]',
    load: async () => (await import('./audit-search.ts')).auditSearchCommand,
  },
  {
    name: 'audit export',
    summary: 'write the central audit events as OCSF JSON lines',
    usage:
      '--format ocsf-jsonl [--since TIME] [--until TIME] [--out FILE] [--data-dir DIR] [--store-url URL]',
    load: async () => (await import('./audit-export.ts')).auditExportCommand,
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
    usage: '[--status STATUS] [--json] [--server URL | --socket PATH]',
    load: async () => (await import('./review.ts')).reviewListCommand,
  },
  {
    name: 'review show',
    summary: 'show a held call: who, what, the redacted arguments, its digest and approvals',
    usage: 'ID [--json] [--server URL | --socket PATH]',
    load: async () => (await import('./review.ts')).reviewShowCommand,
  },
  {
    name: 'review approve',
    summary: 'approve a held call (single use, bound to its digest)',
    usage: 'ID --reason TEXT [--as USER] [--json] [--server URL | --socket PATH]',
    load: async () => (await import('./review.ts')).reviewApproveCommand,
  },
  {
    name: 'review deny',
    summary: 'deny a held call',
    usage: 'ID --reason TEXT [--as USER] [--json] [--server URL | --socket PATH]',
    load: async () => (await import('./review.ts')).reviewDenyCommand,
  },
  {
    name: 'mcp-shim',
    summary: "relay an agent's stdio MCP connection to the supervisor's MCP gateway",
    usage: '[--socket PATH]',
    load: async () => (await import('./mcp-shim.ts')).mcpShimCommand,
  },
];
