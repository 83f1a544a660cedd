import type { HarnessAdapter, HookEvent, ToolCall, Verdict } from '../types.ts';
import { firstString, type Input, invalid, json, mcpName, pathCall, readToolEvent } from './fields.ts';

// OpenAI Codex CLI lifecycle hooks (developers.openai.com/codex/hooks; codex-rs/hooks): the
// same stdin fields as Claude Code plus model, turn_id and permission_mode. Tool names are
// `Bash` (every shell tool, tool_input.command), `apply_patch` (the patch text in
// tool_input.command), `mcp__SERVER__TOOL` (the MCP arguments) and, in recent versions, local
// function tools under their own names.
//
// Answers: PreToolUse accepts only permissionDecision "deny" (with a non-empty reason) — "allow"
// without updatedInput and "ask" are rejected as unsupported and the call goes ahead — so an
// allow is an empty stdout and exit 0. PostToolUse blocks with decision "block" and a reason.
// Exit 2 with a reason on stderr blocks; other failures (a crash, a timeout) do not block,
// which is why the client always answers before Codex's timeout.

const INERT = new Set([
  'update_plan',
  'spawn_agent',
  'send_input',
  'wait',
  'close_agent',
  'resume_agent',
  'request_user_input',
  'write_stdin',
]);

function mapTool(tool: string, input: Input): ToolCall {
  if (INERT.has(tool)) return { kind: 'inert' };
  const mcp = mcpName(tool);
  if (mcp) return { kind: 'mcp', ...mcp, arguments: input };
  switch (tool) {
    case 'Bash':
    case 'shell':
    case 'exec_command':
    case 'local_shell': {
      const command = input.command ?? input.cmd;
      if (typeof command === 'string') return { kind: 'shell', command, cwd: firstString(input, 'workdir') };
      if (Array.isArray(command) && command.length > 0 && command.every((w) => typeof w === 'string')) {
        // The shell tool wraps every script as [bash, -lc, SCRIPT]: that wrapper is Codex's, not
        // the agent's, so the script is what gets checked (as for Claude Code's Bash tool).
        const [shell, flag, script] = command as string[];
        const wrapped =
          command.length === 3 &&
          /^(\/bin\/|\/usr\/bin\/)?(ba|z)?sh$/.test(shell ?? '') &&
          /^-l?c$/.test(flag ?? '');
        return {
          kind: 'shell',
          command: wrapped ? (script as string) : (command as string[]),
          cwd: firstString(input, 'workdir'),
        };
      }
      return invalid(`${tool} without a command`);
    }
    case 'apply_patch': {
      const patch = firstString(input, 'command', 'input', 'patch');
      if (patch !== undefined) return { kind: 'patch', patch };
      const files = Object.keys(input).filter((key) => key.startsWith('/'));
      return files.length > 0 ? { kind: 'write', paths: files } : invalid('apply_patch without a patch');
    }
    case 'view_image':
      return pathCall('read', tool, input, 'path');
    case 'read_file':
      return pathCall('read', tool, input, 'file_path', 'path');
    case 'list_dir':
      return pathCall('read', tool, input, 'dir_path', 'path');
    case 'grep_files':
      return pathCall('read', tool, input, 'path', 'dir_path');
    case 'web_search': {
      const query = firstString(input, 'query');
      return query === undefined ? invalid('web_search without query') : { kind: 'search', query };
    }
    default:
      return invalid(`the tool ${tool} is not known to Paddock's hook adapter`);
  }
}

export const codex: HarnessAdapter = {
  harness: 'codex',
  parse(payload) {
    const { fields, toolInput } = readToolEvent(payload, 'codex', { pre: 'PreToolUse', post: 'PostToolUse' });
    return { ...fields, call: mapTool(fields.toolName, toolInput) };
  },
  answer(event: HookEvent, verdict: Verdict) {
    if (verdict.outcome === 'allow') return { stdout: '', stderr: '', exitCode: 0 };
    if (event.phase === 'post') {
      const reason = `${verdict.message} The tool had already run; its result is withheld.`;
      return { stdout: json({ decision: 'block', reason }), stderr: '', exitCode: 0 };
    }
    return {
      stdout: json({
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          permissionDecision: 'deny',
          permissionDecisionReason: verdict.message,
        },
      }),
      stderr: '',
      exitCode: 0,
    };
  },
};
