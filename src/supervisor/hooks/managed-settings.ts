import { SANDBOX_PATHS } from '../sandbox/sandbox-types.ts';
import { HOOK_NAME, HOOK_SOCKET_PATH } from './constants.ts';
import type { Harness } from './types.ts';

// The harnesses' managed (administrator) settings that install `paddock hook` for every tool
// call and stop the agent from turning it off. The launcher binds each file read-only at
// `sandboxPath` (docs/hooks.md, "Managed settings and mounts"):
//
//   Claude Code  /etc/claude-code/managed-settings.json  hooks + allowManagedHooksOnly
//   Codex        /etc/codex/requirements.toml            hooks + allow_managed_hooks_only,
//                                                        features.hooks pinned on
//   Gemini CLI   /etc/gemini-cli/settings.json           hooks + hooksConfig.enabled, folder
//                                                        trust off (untrusted folders drop hooks)
//
// User-level files are bound read-only and empty too where they could switch the hook off
// (Gemini's hooksConfig.disabled is a union over all levels) or run code before it (Codex runs
// hook commands through `$SHELL -lc`, which reads the login profile).

export interface HookCommandOptions {
  /**
   * The native hook client (native/paddock-hook.c, `ensureHookClient`) inside the sandbox. When
   * set, the hook does not start Node.js on every tool call; nodePath and entryPath are unused.
   */
  readonly clientPath?: string;
  /** Without clientPath: the absolute path of the Node.js 24 binary inside the sandbox. */
  readonly nodePath?: string;
  /** Without clientPath: the absolute path of Paddock's bin/paddock.js inside the sandbox. */
  readonly entryPath?: string;
  /** The hook socket inside the sandbox. Default HOOK_SOCKET_PATH. */
  readonly socketPath?: string;
  /** The harness's own timeout for the hook, in seconds. Default 10 (the client answers within 2). */
  readonly timeoutSec?: number;
  /** The sandbox's HOME. Default SANDBOX_PATHS.home. */
  readonly home?: string;
  /**
   * The MCP gateway's stdio shim inside the sandbox: when set, each harness is given exactly one
   * MCP server, `paddock`, that runs it (docs/mcp.md); servers configured elsewhere are ignored
   * or disabled where the harness allows an administrator to say so. Default: no MCP settings.
   */
  readonly mcp?: McpShimCommand;
}

/** How a harness starts the MCP shim inside the sandbox (absolute paths). */
export interface McpShimCommand {
  /** The native shim (native/paddock-mcp-shim.c). */
  readonly shimPath: string;
  /** The MCP gateway's socket. Default MCP_SHIM_SOCKET (the shim's own default). */
  readonly socketPath?: string;
}

/** The one MCP server every harness is given: its name, and the shim's argv. */
export const MCP_SERVER_NAME = 'paddock';

function shimArgs(mcp: McpShimCommand): string[] {
  return mcp.socketPath ? ['--socket', mcp.socketPath] : [];
}

export interface ManagedFile {
  readonly harness: Harness;
  /** Where the harness reads the file inside the sandbox: bind it read-only there. */
  readonly sandboxPath: string;
  readonly contents: string;
  /** Why the file is there, for the mount list. */
  readonly purpose: string;
}

const shellQuote = (word: string) =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * The hook command line. Absolute paths and `env -i` keep PATH, NODE_OPTIONS and the rest of
 * the agent's environment from choosing what runs.
 * @example hookCommand('codex', { clientPath: '/etc/paddock/paddock-hook' })
 *   // '/usr/bin/env -i /etc/paddock/paddock-hook codex --socket /run/paddock/hook.sock'
 */
export function hookCommand(harness: Harness, options: HookCommandOptions): string {
  const socket = options.socketPath ?? HOOK_SOCKET_PATH;
  const program = options.clientPath
    ? [options.clientPath, harness]
    : [options.nodePath ?? '', options.entryPath ?? '', 'hook', harness];
  for (const path of [...program.slice(0, program.length - (options.clientPath ? 1 : 2)), socket]) {
    if (!path.startsWith('/'))
      throw new Error(
        `hook paths must be absolute inside the sandbox, got ${JSON.stringify(path)} (set clientPath, or nodePath and entryPath)`,
      );
  }
  return ['/usr/bin/env', '-i', ...program, '--socket', socket].map(shellQuote).join(' ');
}

function claudeCodeFiles(
  command: string,
  timeout: number,
  home: string,
  mcp: McpShimCommand | undefined,
): ManagedFile[] {
  const group = [{ matcher: '*', hooks: [{ type: 'command', command, timeout }] }];
  const settings = {
    allowManagedHooksOnly: true,
    hooks: { PreToolUse: group, PostToolUse: group },
  };
  const mcpFiles: ManagedFile[] = mcp
    ? [
        {
          harness: 'claude-code',
          sandboxPath: '/etc/claude-code/managed-mcp.json',
          contents: `${JSON.stringify(
            {
              mcpServers: {
                [MCP_SERVER_NAME]: { type: 'stdio', command: mcp.shimPath, args: shimArgs(mcp) },
              },
            },
            null,
            2,
          )}\n`,
          purpose:
            'managed MCP: the Paddock shim is the one MCP server (exclusive: user and project servers are ignored)',
        },
      ]
    : [];
  return [
    ...mcpFiles,
    {
      harness: 'claude-code',
      sandboxPath: '/etc/claude-code/managed-settings.json',
      contents: `${JSON.stringify(settings, null, 2)}\n`,
      purpose:
        'managed settings: the Paddock hook on every tool call; user, project and plugin hooks ignored',
    },
    {
      harness: 'claude-code',
      sandboxPath: `${home}/.claude/settings.json`,
      contents: '{}\n',
      purpose: 'user settings pinned empty (no env or hook changes from inside the sandbox)',
    },
  ];
}

function tomlHooks(event: string, command: string, timeout: number): string {
  return [
    `[[hooks.${event}]]`,
    'matcher = "*"',
    '',
    `[[hooks.${event}.hooks]]`,
    'type = "command"',
    `command = ${JSON.stringify(command)}`,
    `timeout = ${timeout}`,
    'statusMessage = "Paddock policy check"',
    '',
  ].join('\n');
}

function codexFiles(
  command: string,
  timeout: number,
  home: string,
  mcp: McpShimCommand | undefined,
): ManagedFile[] {
  const requirements = [
    '# Generated by `paddock hook install`; bound read-only into the sandbox.',
    'allow_managed_hooks_only = true',
    '',
    '[features]',
    'hooks = true',
    '',
    tomlHooks('PreToolUse', command, timeout),
    tomlHooks('PostToolUse', command, timeout),
    // The MCP allowlist: only a server named paddock that runs the shim is enabled.
    ...(mcp
      ? [`[mcp_servers.${MCP_SERVER_NAME}.identity]`, `command = ${JSON.stringify(mcp.shimPath)}`, '']
      : []),
  ].join('\n');
  const mcpFiles: ManagedFile[] = mcp
    ? [
        {
          harness: 'codex',
          sandboxPath: '/etc/codex/managed_config.toml',
          contents: [
            '# Generated by `paddock run`; bound read-only into the sandbox.',
            `[mcp_servers.${MCP_SERVER_NAME}]`,
            `command = ${JSON.stringify(mcp.shimPath)}`,
            `args = ${JSON.stringify(shimArgs(mcp))}`,
            '',
          ].join('\n'),
          purpose: 'managed defaults: the Paddock shim as MCP server (requirements.toml allows no other)',
        },
      ]
    : [];
  const profile = (name: string): ManagedFile => ({
    harness: 'codex',
    sandboxPath: `${home}/${name}`,
    contents: '',
    purpose: 'login profile pinned empty (Codex runs hook commands through $SHELL -lc)',
  });
  return [
    {
      harness: 'codex',
      sandboxPath: '/etc/codex/requirements.toml',
      contents: requirements,
      purpose:
        'requirements: the Paddock hook on every tool call; other hooks ignored; hooks cannot be disabled',
    },
    ...mcpFiles,
    profile('.profile'),
    profile('.bash_profile'),
    profile('.bash_login'),
  ];
}

function geminiFiles(
  command: string,
  timeout: number,
  home: string,
  mcp: McpShimCommand | undefined,
): ManagedFile[] {
  const group = [
    {
      matcher: '*',
      hooks: [
        {
          name: HOOK_NAME,
          type: 'command',
          command,
          timeout: timeout * 1000,
          description: 'Paddock policy check',
        },
      ],
    },
  ];
  const settings = {
    hooksConfig: { enabled: true },
    security: { folderTrust: { enabled: false } },
    hooks: { BeforeTool: group, AfterTool: group },
    // System settings override the others: the shim is the one MCP server, and only it is allowed.
    ...(mcp
      ? {
          mcpServers: { [MCP_SERVER_NAME]: { command: mcp.shimPath, args: shimArgs(mcp) } },
          mcp: { allowed: [MCP_SERVER_NAME] },
        }
      : {}),
  };
  return [
    {
      harness: 'gemini',
      sandboxPath: '/etc/gemini-cli/settings.json',
      contents: `${JSON.stringify(settings, null, 2)}\n`,
      purpose: 'system settings (override all others): the Paddock hook on every tool call',
    },
    {
      harness: 'gemini',
      sandboxPath: `${home}/.gemini/settings.json`,
      contents: '{}\n',
      purpose: 'user settings pinned empty (hooksConfig.disabled there would switch the hook off)',
    },
  ];
}

/**
 * The managed settings files for one harness.
 * @example managedSettingsFiles('claude-code', { nodePath, entryPath })[0].sandboxPath // '/etc/claude-code/managed-settings.json'
 */
export function managedSettingsFiles(harness: Harness, options: HookCommandOptions): ManagedFile[] {
  const command = hookCommand(harness, options);
  const timeout = options.timeoutSec ?? 10;
  const home = options.home ?? SANDBOX_PATHS.home;
  switch (harness) {
    case 'claude-code':
      return claudeCodeFiles(command, timeout, home, options.mcp);
    case 'codex':
      return codexFiles(command, timeout, home, options.mcp);
    case 'gemini':
      return geminiFiles(command, timeout, home, options.mcp);
  }
}

export interface ManagedMount {
  readonly harness: Harness;
  /** The generated file on the host. */
  readonly host: string;
  /** Where to bind it, read-only, inside the sandbox. */
  readonly sandbox: string;
  readonly purpose: string;
}
