import type { PolicyAction } from './bundle-types.ts';
import { ENTITY } from './schema.ts';

// Cedar source text for values the compiler writes into policies. Everything a blueprint
// supplies is escaped here, so no blueprint value can change a policy's structure.

function escapeChar(char: string): string {
  switch (char) {
    case '\\':
      return '\\\\';
    case '"':
      return '\\"';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const code = char.codePointAt(0)!;
      return code < 0x20 || code === 0x7f ? `\\u{${code.toString(16)}}` : char;
    }
  }
}

/** A Cedar string literal: `cedarString('a"b')` → `"a\"b"`. */
export function cedarString(value: string): string {
  let out = '"';
  for (const char of value) out += escapeChar(char);
  return `${out}"`;
}

/**
 * A Cedar `like` pattern literal. `*` in `pattern` is a wildcard when `wildcards` is true and
 * a literal star (`\*`) otherwise.
 *
 * @example cedarLike('git *', true)   // "git *"
 * @example cedarLike('/a*b', false)   // "/a\*b"
 */
export function cedarLike(pattern: string, wildcards: boolean): string {
  let out = '"';
  for (const char of pattern) out += char === '*' ? (wildcards ? '*' : '\\*') : escapeChar(char);
  return `${out}"`;
}

/**
 * A `like` pattern of literal pieces joined by wildcards: `cedarWildcardJoin(['/a/', ''])` →
 * `"/a/*"`. Stars inside the pieces are literal.
 */
export function cedarWildcardJoin(pieces: readonly string[]): string {
  return `"${pieces.map((piece) => cedarLike(piece, false).slice(1, -1)).join('*')}"`;
}

/** A Cedar set literal of strings: `["GET", "HEAD"]`. */
export function cedarStringSet(values: Iterable<string>): string {
  return `[${[...values].map(cedarString).join(', ')}]`;
}

/** An entity reference: `Blueprint::"code-review"`. */
export function cedarEntity(type: string, id: string): string {
  return `${type}::${cedarString(id)}`;
}

/** `a || b || c`, parenthesized when more than one. */
export function anyOf(conditions: readonly string[]): string {
  if (conditions.length === 0) return 'false';
  return conditions.length === 1 ? conditions[0]! : `(${conditions.join(' || ')})`;
}

// The form every generated policy takes before it becomes Cedar text: one effect, the actions
// it covers, one condition over the context, and the annotations the decision point reads.

/** A policy the compiler generates from one blueprint field. */
export interface GeneratedPolicy {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  readonly actions: readonly PolicyAction[];
  /** A Cedar boolean expression over `context`. */
  readonly condition: string;
  /** The reason code a decision this policy determines carries (docs/policy.md). */
  readonly reason: string;
  /** Marks a permit a review gate covers: the decision becomes `review`. */
  readonly review?: boolean;
  /** The blueprint field it was compiled from, as `formatFieldPath` prints it. */
  readonly field: string;
}

/**
 * The Cedar text of a generated policy, scoped to the blueprint's sessions.
 *
 * @example
 * // @reason("command_denied")
 * // forbid (principal in Blueprint::"code-review", action == Action::"exec", resource)
 * // when { context.command like "curl *" || … };
 */
export function renderGenerated(policy: GeneratedPolicy, blueprint: string): string {
  const annotations = [`@reason(${cedarString(policy.reason)})`];
  if (policy.review) annotations.push('@review("required")');
  const actions =
    policy.actions.length === 1
      ? `action == ${cedarEntity('Action', policy.actions[0]!)}`
      : `action in [${policy.actions.map((action) => cedarEntity('Action', action)).join(', ')}]`;
  const scope = `principal in ${cedarEntity(ENTITY.blueprint, blueprint)}, ${actions}, resource`;
  return `${annotations.join('\n')}\n${policy.effect} (${scope})\nwhen { ${policy.condition} };`;
}
