import { stringify } from 'yaml';
import type { FieldPath } from '../repository.ts';
import { formatFieldPath } from '../repository.ts';
import type { ResolvedBlueprint } from './resolved-blueprint.ts';

// `paddock blueprint explain`: the effective blueprint, each line naming the
// file its value came from. The YAML is written here rather than by the yaml
// package's document model because every line, including `key:` lines of lists
// and mappings, needs its own trailing comment; scalars still go through
// `stringify`, so quoting follows the YAML 1.2 rules the loader reads with.

interface Line {
  readonly text: string;
  readonly source: string | undefined;
}

/** Widest column trailing comments are aligned to; longer lines get theirs two spaces after. */
const MAX_COMMENT_COLUMN = 60;

function scalarText(value: unknown): string {
  if (typeof value === 'string') {
    const text = stringify(value, { lineWidth: 0 }).trimEnd();
    // A block scalar (`|-`) cannot carry a same-line comment; a JSON string is valid YAML.
    return text.includes('\n') ? JSON.stringify(value) : text;
  }
  if (Array.isArray(value)) return '[]';
  if (value !== null && typeof value === 'object') return '{}';
  return String(value);
}

function isBlock(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length > 0;
}

/**
 * Appends the lines of `value` to `out`. `lead` is the text before the value on
 * its first line (`  hosts:` or `    - `), `indent` the indentation of its children.
 */
function emit(
  out: Line[],
  lead: string,
  value: unknown,
  path: FieldPath,
  indent: string,
  sourceOf: (path: FieldPath) => string | undefined,
): void {
  if (!isBlock(value)) {
    out.push({ text: `${lead}${lead.endsWith(' ') ? '' : ' '}${scalarText(value)}`, source: sourceOf(path) });
    return;
  }
  if (Array.isArray(value)) {
    out.push({ text: lead, source: sourceOf(path) });
    value.forEach((item, index) => {
      emitItem(out, `${indent}  `, item, [...path, index], sourceOf);
    });
    return;
  }
  out.push({ text: lead, source: sourceOf(path) });
  for (const [key, item] of Object.entries(value as object)) {
    if (item !== undefined) emit(out, `${indent}  ${key}:`, item, [...path, key], `${indent}  `, sourceOf);
  }
}

/** A list item: a mapping starts on the `- ` line with its first key; anything else follows the dash. */
function emitItem(
  out: Line[],
  indent: string,
  item: unknown,
  path: FieldPath,
  sourceOf: (path: FieldPath) => string | undefined,
): void {
  if (!isBlock(item) || Array.isArray(item)) {
    // Lists of lists do not occur in a blueprint; flow style keeps one should it ever.
    const text = Array.isArray(item) ? JSON.stringify(item) : scalarText(item);
    out.push({ text: `${indent}- ${text}`, source: sourceOf(path) });
    return;
  }
  let first = true;
  for (const [key, value] of Object.entries(item as object)) {
    if (value === undefined) continue;
    emit(out, `${indent}${first ? '- ' : '  '}${key}:`, value, [...path, key], `${indent}  `, sourceOf);
    first = false;
  }
}

function linesOf(resolved: ResolvedBlueprint): Line[] {
  const sourceOf = (path: FieldPath) => resolved.sources.get(formatFieldPath(path));
  const out: Line[] = [];
  for (const [key, value] of Object.entries(resolved.blueprint)) {
    if (value !== undefined) emit(out, `${key}:`, value, [key], '', sourceOf);
  }
  return out;
}

/**
 * The effective blueprint as YAML, each line with a trailing comment naming the
 * file its value came from, after a header comment with the chain:
 *
 * ```yaml
 * # effective blueprint "code-review" (code-review -> coding-base)
 * spec:                   # blueprints/code-review.yaml
 *   services:             # blueprints/coding-base.yaml
 *     - name: github      # blueprints/coding-base.yaml
 *       hosts:            # services/github.yaml
 *         - api.github.com  # services/github.yaml
 * ```
 */
export function renderExplainedBlueprint(resolved: ResolvedBlueprint): string {
  const lines = linesOf(resolved);
  const column = Math.min(MAX_COMMENT_COLUMN, Math.max(...lines.map((line) => line.text.length)));
  const body = lines.map(({ text, source }) =>
    source === undefined ? text : `${text.padEnd(column)}  # ${source}`,
  );
  return `# effective blueprint "${resolved.name}" (${resolved.chain.join(' -> ')})\n${body.join('\n')}\n`;
}

/**
 * The machine-readable explanation: the effective blueprint, the chain, and the
 * source file of every value keyed by field path (`spec.services[0].hosts[0]`),
 * in the order the values appear in the blueprint.
 */
export function explainBlueprintJson(resolved: ResolvedBlueprint): {
  name: string;
  chain: readonly string[];
  blueprint: ResolvedBlueprint['blueprint'];
  sources: Record<string, string>;
} {
  const sources: Record<string, string> = {};
  const walk = (value: unknown, path: FieldPath): void => {
    const key = formatFieldPath(path);
    const source = resolved.sources.get(key);
    if (source !== undefined && key !== '') sources[key] = source;
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        walk(item, [...path, index]);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [field, item] of Object.entries(value)) if (item !== undefined) walk(item, [...path, field]);
    }
  };
  walk(resolved.blueprint, []);
  return { name: resolved.name, chain: resolved.chain, blueprint: resolved.blueprint, sources };
}
