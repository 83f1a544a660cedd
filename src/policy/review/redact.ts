import { REDACTED, redactText } from '../../core/redact.ts';
import type { ToolArgumentLogging } from './types.ts';

// What a review request records of a held call's arguments, per the blueprint's `logging`:
// `none` records nothing, `full` everything, and `redacted` (the default) applies the `redact`
// patterns two ways, because operators write both kinds:
//   - a key that matches (`(?i)authorization`, `(?i)password`) hides its whole value;
//   - in string values, each match (`ghp_[A-Za-z0-9]{36}`) is replaced.
// The reviewer sees the redacted copy; the approval is bound to the exact arguments (digest).
// Patterns arrive compiled (config's compileRedactPattern: global, unicode, `(?i)` ignores case).

export { REDACTED, redactText };

/** Deeper than this is not shown: an agent could otherwise nest arguments to exhaust the stack. */
export const MAX_REDACT_DEPTH = 64;

function keyMatches(key: string, patterns: readonly RegExp[]): boolean {
  // search() ignores the global flag's lastIndex, so shared RegExp objects stay stateless.
  return patterns.some((pattern) => key.search(pattern) !== -1);
}

function redactValue(value: unknown, patterns: readonly RegExp[], depth: number): unknown {
  if (typeof value === 'string') return redactText(value, patterns);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_REDACT_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, patterns, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    out[key] = keyMatches(key, patterns) ? REDACTED : redactValue(member, patterns, depth + 1);
  }
  return out;
}

/**
 * The arguments as a review request records them: undefined for `none` (nothing recorded),
 * the value itself for `full`, a redacted copy for `redacted`.
 * @example redactArguments({ token: 'x', body: 'hi' }, { toolArguments: 'redacted', redact: [] }, [/token/giu])
 * // { token: '[REDACTED]', body: 'hi' }
 */
export function redactArguments(
  value: unknown,
  logging: Pick<ToolArgumentLogging, 'toolArguments'>,
  patterns: readonly RegExp[],
): unknown {
  switch (logging.toolArguments) {
    case 'none':
      return undefined;
    case 'full':
      return value;
    case 'redacted':
      return redactValue(value, patterns, 0);
  }
}

/** The resource (argv, path, URL) as recorded: redacted unless logging is `full`. */
export function redactResource(
  resource: string,
  logging: Pick<ToolArgumentLogging, 'toolArguments'>,
  patterns: readonly RegExp[],
): string {
  return logging.toolArguments === 'full' ? resource : redactText(resource, patterns);
}
