import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type YAMLError,
} from 'yaml';
import type { ConfigProblem, SourceLocation } from './repository.ts';
import { compareProblems, fileProblem } from './problem.ts';
import { createLocator, keyText, type YamlLocator } from './yaml-locator.ts';

// Parses one desired-state file into plain data plus source positions, and refuses
// the YAML features a policy file never needs but an attacker can abuse: anchors
// and aliases (exponential "billion laughs" expansion), tags (arbitrary types such
// as !!binary), complex keys, deep nesting and several documents in one file.

/** Deepest nesting of mappings and lists accepted; real documents stay under 10. */
export const MAX_YAML_DEPTH = 32;

export interface ParsedYaml {
  /** The document as plain JSON-like data; undefined when the file had YAML problems. */
  readonly data: unknown;
  readonly locator: YamlLocator;
  readonly problems: ConfigProblem[];
}

const PARSE_OPTIONS = {
  version: '1.2', // YAML 1.2 core schema: `yes`/`no`/`on` stay strings, even under a `%YAML 1.1` directive
  schema: 'core',
  merge: false, // no `<<` merge keys: every field is written where it applies
  uniqueKeys: true,
  maxAliasCount: 0, // defence in depth: toJS refuses alias expansion even if checkNodes missed one
  prettyErrors: false, // positions come from the LineCounter; messages stay one line
  strict: true,
} as const;

/** Parses `text` (the content of `file`) and reports every YAML-level problem it finds. */
export function parseYamlDocument(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter });
  const first = documents[0];
  const locator = createLocator(file, first?.contents, lineCounter);
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  if (!first || first.contents === null || (isScalar(first.contents) && first.contents.source === '')) {
    return {
      data: undefined,
      locator,
      problems: [fileProblem(file, 'file is empty: expected a YAML mapping with apiVersion and kind')],
    };
  }

  const problems: ConfigProblem[] = [];
  if (documents.length > 1) {
    const second = documents[1]!;
    problems.push({
      ...at(second.range[0]),
      path: '',
      message: `file holds ${documents.length} YAML documents (separated by ---); put each object in its own file`,
    });
  }
  for (const document of documents) {
    for (const error of document.errors) {
      // Duplicate keys are reported by checkNodes, which can name the first occurrence.
      if (error.code !== 'DUPLICATE_KEY') problems.push(yamlProblem(error, at));
    }
    for (const warning of document.warnings) {
      // Unresolved tags are reported by checkNodes with every other tag.
      if (warning.code !== 'TAG_RESOLVE_FAILED') problems.push(yamlProblem(warning, at));
    }
  }
  problems.push(...checkNodes(first, text, at));
  // Converting to plain data is only safe (no alias expansion, bounded recursion)
  // once the checks above found nothing.
  const data = problems.length === 0 ? first.toJS({ maxAliasCount: 0 }) : undefined;
  return { data, locator, problems: problems.sort(compareProblems) };
}

function yamlProblem(error: YAMLError, at: (offset: number) => SourceLocation): ConfigProblem {
  const message = error.code === 'RESOURCE_EXHAUSTION' ? 'YAML is nested too deeply' : error.message;
  return { ...at(error.pos[0]), path: '', message: `invalid YAML: ${message}` };
}

/** Walks the document without recursion (so hostile nesting cannot overflow the stack). */
function checkNodes(
  document: Document,
  text: string,
  at: (offset: number) => SourceLocation,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (offset: number | undefined, message: string) =>
    problems.push({ ...at(offset ?? 0), path: '', message });
  let reusedValue = false;
  const stack: { node: unknown; depth: number }[] = [{ node: document.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (isAlias(node) || (node as { anchor?: string }).anchor) {
      // One report per file: a billion-laughs document has thousands of these.
      if (!reusedValue) {
        const start = (node as { range?: [number, number, number] }).range?.[0] ?? 0;
        add(
          isAlias(node) ? start : propertyStart(text, start, '&'),
          'YAML anchors (&name) and aliases (*name) are not allowed: write each value out in full',
        );
      }
      reusedValue = true;
      if (isAlias(node)) continue;
    }
    const tag = (node as { tag?: string }).tag;
    if (tag) {
      add(
        propertyStart(text, (node as { range?: [number, number, number] }).range?.[0] ?? 0, '!'),
        `YAML tags (${tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed: write plain strings, numbers, lists and mappings`,
      );
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_YAML_DEPTH) {
      add(node.range?.[0], `YAML is nested more than ${MAX_YAML_DEPTH} levels deep`);
      continue;
    }
    const seen = new Map<string, number>();
    const children: unknown[] = [];
    for (const item of node.items) {
      if (isPair(item)) {
        const key = keyText(item);
        const keyStart = (item.key as { range?: [number, number, number] } | null)?.range?.[0];
        if (key === undefined) {
          add(keyStart, 'mapping keys must be plain strings, not lists or mappings');
        } else if (seen.has(key)) {
          add(
            keyStart,
            `duplicate key "${key}" (first at line ${at(seen.get(key)!).line}); remove one of them`,
          );
        } else {
          seen.set(key, keyStart ?? 0);
        }
        children.push(item.key, item.value);
      } else {
        children.push(item);
      }
    }
    // Reversed so the stack pops them in source order, and the first anchor reported is the earliest.
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  return problems;
}

/**
 * A node's range starts after its properties (`&anchor`, `!tag`); this finds the
 * property starting with `marker` among the two tokens before `start` on the same
 * line, so the problem points at what must be removed. Falls back to `start`.
 */
function propertyStart(text: string, start: number, marker: '&' | '!'): number {
  let end = start;
  for (let token = 0; token < 2; token++) {
    while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
    let begin = end;
    while (begin > 0 && !/\s/.test(text[begin - 1]!)) begin--;
    const found = text.slice(begin, end).indexOf(marker);
    if (found !== -1) return begin + found;
    end = begin;
  }
  return start;
}
