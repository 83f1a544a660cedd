import { globRoot, resolveToolPath } from '../paths.ts';
import type { HarnessAdapter, HookEvent, ToolCall, Verdict } from '../types.ts';
import {
  asRecord,
  firstString,
  type Input,
  invalid,
  json,
  mcpName,
  optionalString,
  pathCall,
  readToolEvent,
} from './fields.ts';

// Gemini CLI hooks (geminicli.com/docs/hooks/reference): BeforeTool and AfterTool with
// session_id, transcript_path, cwd, hook_event_name, timestamp, tool_name, tool_input,
// mcp_context (MCP tools) and tool_response (after). Answers are top-level: decision
// "allow" | "deny" (alias "block") | "ask" and reason, which the model receives as the tool
// error; an AfterTool deny replaces the tool's result with the reason. Exit 2 blocks with
// stderr as the reason; other exit codes are warnings and let the call through.

const INERT = new Set([
  'write_todos',
  'delegate_to_agent',
  'activate_skill',
  'ask_user',
  'enter_plan_mode',
  'exit_plan_mode',
  'complete_task',
  'codebase_investigator',
  'cli_help',
  'get_internal_docs',
]);

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`)\]]+/g;

function mapTool(tool: string, input: Input, mcpContext: unknown, cwd: string, home: string): ToolCall {
  if (mcpContext !== undefined) {
    const context = asRecord(mcpContext, 'mcp_context');
    const server = optionalString(context, 'server_name');
    const name = optionalString(context, 'tool_name');
    if (server && name) return { kind: 'mcp', server, tool: name, arguments: input };
  }
  if (INERT.has(tool)) return { kind: 'inert' };
  const mcp = mcpName(tool);
  if (mcp) return { kind: 'mcp', ...mcp, arguments: input };
  const base = () => resolveToolPath(firstString(input, 'dir_path', 'path', 'directory') ?? cwd, cwd, home);
  switch (tool) {
    case 'read_file':
      return pathCall('read', tool, input, 'file_path', 'absolute_path', 'path');
    case 'read_many_files': {
      const patterns = [input.include, input.paths]
        .flatMap((v) => (Array.isArray(v) ? v : []))
        .filter((p) => typeof p === 'string');
      if (patterns.length === 0) return invalid('read_many_files without paths');
      return { kind: 'read', paths: patterns.map((pattern) => globRoot(pattern, cwd)) };
    }
    case 'list_directory':
      return pathCall('read', tool, input, 'dir_path', 'path');
    case 'glob': {
      const root = base();
      const pattern = firstString(input, 'pattern');
      if (pattern === undefined || root === null)
        return invalid('glob without a pattern or a usable directory');
      return { kind: 'read', paths: [globRoot(pattern, root)] };
    }
    case 'search_file_content':
    case 'grep_search':
    case 'grep': {
      const root = base();
      return root === null ? invalid(`${tool} without a usable directory`) : { kind: 'read', paths: [root] };
    }
    case 'write_file':
    case 'replace':
    case 'edit':
      return pathCall('write', tool, input, 'file_path', 'absolute_path', 'path');
    case 'save_memory':
      return { kind: 'write', paths: [`${home}/.gemini/GEMINI.md`] };
    case 'run_shell_command': {
      const command = firstString(input, 'command');
      if (command === undefined) return invalid('run_shell_command without command');
      return { kind: 'shell', command, cwd: firstString(input, 'dir_path', 'directory') };
    }
    case 'web_fetch': {
      const text = [firstString(input, 'url'), firstString(input, 'prompt')]
        .filter((t) => t !== undefined)
        .join(' ');
      const urls = [...new Set(text.match(URL_IN_TEXT) ?? [])];
      return urls.length > 0 ? { kind: 'fetch', urls } : invalid('web_fetch names no http(s) URL');
    }
    case 'google_web_search': {
      const query = firstString(input, 'query');
      return query === undefined ? invalid('google_web_search without query') : { kind: 'search', query };
    }
    default:
      return invalid(`the tool ${tool} is not known to Paddock's hook adapter`);
  }
}

export const gemini: HarnessAdapter = {
  harness: 'gemini',
  parse(payload, home) {
    const { fields, toolInput } = readToolEvent(payload, 'gemini', { pre: 'BeforeTool', post: 'AfterTool' });
    const mcpContext = (payload as Input).mcp_context ?? undefined;
    return { ...fields, call: mapTool(fields.toolName, toolInput, mcpContext, fields.cwd, home) };
  },
  answer(event: HookEvent, verdict: Verdict) {
    if (verdict.outcome === 'allow')
      return { stdout: event.phase === 'pre' ? json({ decision: 'allow' }) : '', stderr: '', exitCode: 0 };
    if (event.phase === 'post') {
      return {
        stdout: json({
          decision: 'deny',
          reason: `${verdict.message} The tool had already run; its result is withheld.`,
        }),
        stderr: '',
        exitCode: 0,
      };
    }
    return {
      stdout: json({ decision: verdict.outcome === 'ask' ? 'ask' : 'deny', reason: verdict.message }),
      stderr: '',
      exitCode: 0,
    };
  },
};
