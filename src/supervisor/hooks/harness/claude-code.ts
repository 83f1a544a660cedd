import { globRoot, resolveToolPath } from '../paths.ts';
import type { HarnessAdapter, HookEvent, ToolCall, Verdict } from '../types.ts';
import { firstString, type Input, invalid, json, mcpName, pathCall, readToolEvent } from './fields.ts';

// Claude Code hooks (code.claude.com/docs/en/hooks): PreToolUse and PostToolUse with
// session_id, transcript_path, cwd, hook_event_name, tool_name, tool_input (and tool_response
// after the call) on stdin. PreToolUse answers hookSpecificOutput.permissionDecision
// allow | deny | ask with permissionDecisionReason (shown to Claude on deny); PostToolUse
// answers decision "block" with a reason Claude sees. Exit 0 with that JSON; exit 2 blocks
// with stderr as the reason; any other exit code would let the call through, so Paddock never
// uses one.

/** Tools with no effect outside Claude Code itself; they are allowed without a decision request. */
const INERT = new Set([
  'Task',
  'Agent',
  'TodoWrite',
  'ExitPlanMode',
  'EnterPlanMode',
  'AskUserQuestion',
  'BashOutput',
  'TaskOutput',
  'KillShell',
  'KillBash',
  'SlashCommand',
  'Skill',
]);

function mapTool(tool: string, input: Input, cwd: string, home: string): ToolCall {
  if (INERT.has(tool)) return { kind: 'inert' };
  const mcp = mcpName(tool);
  if (mcp) return { kind: 'mcp', ...mcp, arguments: input };
  switch (tool) {
    case 'Read':
      return pathCall('read', tool, input, 'file_path');
    case 'NotebookRead':
      return pathCall('read', tool, input, 'notebook_path');
    case 'LS':
      return pathCall('read', tool, input, 'path');
    case 'Glob': {
      const root = resolveToolPath(firstString(input, 'path') ?? cwd, cwd, home);
      const pattern = firstString(input, 'pattern');
      if (pattern === undefined || root === null) return invalid('Glob without a pattern or a usable path');
      return { kind: 'read', paths: [globRoot(pattern, root)] };
    }
    case 'Grep':
      return { kind: 'read', paths: [firstString(input, 'path') ?? cwd] };
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
      return pathCall('write', tool, input, 'file_path');
    case 'NotebookEdit':
      return pathCall('write', tool, input, 'notebook_path');
    case 'Bash': {
      const command = firstString(input, 'command');
      return command === undefined ? invalid('Bash without command') : { kind: 'shell', command };
    }
    case 'WebFetch': {
      const url = firstString(input, 'url');
      return url === undefined ? invalid('WebFetch without url') : { kind: 'fetch', urls: [url] };
    }
    case 'WebSearch': {
      const query = firstString(input, 'query');
      if (query === undefined) return invalid('WebSearch without query');
      const list = (key: string) =>
        Array.isArray(input[key]) ? (input[key] as unknown[]).filter((d) => typeof d === 'string') : [];
      return {
        kind: 'search',
        query,
        allowedDomains: list('allowed_domains'),
        blockedDomains: list('blocked_domains'),
      };
    }
    case 'ListMcpResourcesTool':
      return {
        kind: 'mcp',
        server: firstString(input, 'server') ?? '*',
        tool: 'resources/list',
        arguments: {},
      };
    case 'ReadMcpResourceTool':
      return {
        kind: 'mcp',
        server: firstString(input, 'server') ?? '',
        tool: 'resources/read',
        arguments: { uri: input.uri },
      };
    default:
      return invalid(`the tool ${tool} is not known to Paddock's hook adapter`);
  }
}

export const claudeCode: HarnessAdapter = {
  harness: 'claude-code',
  parse(payload, home) {
    const { fields, toolInput } = readToolEvent(payload, 'claude-code', {
      pre: 'PreToolUse',
      post: 'PostToolUse',
    });
    return { ...fields, call: mapTool(fields.toolName, toolInput, fields.cwd, home) };
  },
  answer(event: HookEvent, verdict: Verdict) {
    if (event.phase === 'post') {
      if (verdict.outcome === 'allow') return { stdout: '', stderr: '', exitCode: 0 };
      const reason = `${verdict.message} The tool had already run; its result is withheld.`;
      return {
        stdout: json({
          decision: 'block',
          reason,
          hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext: reason },
        }),
        stderr: '',
        exitCode: 0,
      };
    }
    const permissionDecision =
      verdict.outcome === 'allow' ? 'allow' : verdict.outcome === 'ask' ? 'ask' : 'deny';
    return {
      stdout: json({
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          permissionDecision,
          permissionDecisionReason: verdict.message,
        },
      }),
      stderr: '',
      exitCode: 0,
    };
  },
};
