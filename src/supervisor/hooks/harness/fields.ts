import { type HookEvent, HookInputError, type HookPhase, type ToolCall } from '../types.ts';

// Reading hook payloads: the fields every harness shares (session_id, cwd, hook_event_name,
// tool_name, tool_input) and small helpers for tool inputs. Unknown extra fields are ignored,
// missing or mistyped required ones are refused.

export type Input = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown, what: string): Input {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HookInputError(`${what} is not a JSON object`);
  return value as Input;
}

export function optionalString(input: Input, key: string): string | null {
  const value = input[key];
  return typeof value === 'string' ? value : null;
}

/** The first string among `keys`. */
export function firstString(input: Input, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = input[key];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

export const invalid = (reason: string): ToolCall => ({ kind: 'invalid', reason });

/** A read or write of the path in the first of `keys`; invalid when none is a string. */
export function pathCall(kind: 'read' | 'write', tool: string, input: Input, ...keys: string[]): ToolCall {
  const path = firstString(input, ...keys);
  return path === undefined ? invalid(`${tool} without ${keys[0]}`) : { kind, paths: [path] };
}

/** `mcp__SERVER__TOOL` → server and tool (a server name may not contain `__`). */
export function mcpName(toolName: string): { server: string; tool: string } | null {
  const match = /^mcp__(.+?)__(.+)$/.exec(toolName);
  return match ? { server: match[1] as string, tool: match[2] as string } : null;
}

/** The shared fields of a tool event; `events` names the harness's pre and post event. */
export function readToolEvent(
  payload: unknown,
  harness: HookEvent['harness'],
  events: Readonly<Record<HookPhase, string>>,
): { fields: Omit<HookEvent, 'call'>; toolInput: Input } {
  const input = asRecord(payload, 'the hook input');
  const eventName = optionalString(input, 'hook_event_name');
  const phase = eventName === events.pre ? 'pre' : eventName === events.post ? 'post' : null;
  if (phase === null)
    throw new HookInputError(
      `unsupported hook event ${JSON.stringify(eventName)}; Paddock answers ${events.pre} and ${events.post}`,
    );
  const toolName = optionalString(input, 'tool_name');
  if (!toolName) throw new HookInputError('the hook input has no tool_name');
  const cwd = optionalString(input, 'cwd');
  if (!cwd?.startsWith('/')) throw new HookInputError('the hook input has no absolute cwd');
  const toolInput = asRecord(input.tool_input ?? {}, 'tool_input');
  return {
    fields: {
      harness,
      phase,
      eventName: eventName as string,
      toolName,
      cwd,
      sessionId: optionalString(input, 'session_id'),
      toolUseId: optionalString(input, 'tool_use_id'),
    },
    toolInput,
  };
}

/** Serializes an answer object as the one line a hook prints. */
export function json(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
