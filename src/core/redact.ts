// The one place redaction patterns are compiled and applied to text. Blueprints write patterns
// in the RE2-like form operators know ("(?i)password"); config validates them with this same
// compiler, the review queue and the audit layer apply them with `redactText`.

/** What a redacted match becomes. */
export const REDACTED = '[REDACTED]';

/**
 * Compiles a blueprint redaction pattern: global and unicode; a leading `(?i)` ignores case.
 * @example compileRedactPattern('(?i)password') // /password/giu
 */
export function compileRedactPattern(source: string): RegExp {
  const insensitive = source.startsWith('(?i)');
  return new RegExp(insensitive ? source.slice(4) : source, insensitive ? 'giu' : 'gu');
}

/** `text` with every match of every pattern replaced by `[REDACTED]`. */
export function redactText(text: string, patterns: readonly RegExp[]): string {
  let out = text;
  for (const pattern of patterns) out = out.replace(pattern, REDACTED);
  return out;
}
