import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

// A renderer for the small subset of Helm's Go templates the Paddock chart uses (no helm binary
// can be installed here). Anything outside the subset is an error, so the chart cannot drift into
// constructs this renderer would get wrong:
//   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Release.Namespace }}  {{ .Chart.Name }} / .Chart.AppVersion
//   {{ .field }} and {{ . }} inside range     {{- ... -}} whitespace trimming
//   pipelines with quote, toJson, toYaml, nindent N, indent N   (toYaml/toJson also as a prefix call)
//   {{- if EXPR }} ... {{- end }}   {{- range EXPR }} ... {{- end }}

type Value = unknown;

interface Scope {
  readonly root: Record<string, Value>;
  readonly dot: Value;
}

type Node =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'expr'; readonly expr: string }
  | { readonly type: 'if' | 'range'; readonly expr: string; readonly body: Node[] };

const ACTION = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;

function tokenize(source: string): Node[] {
  const flat: ({ kind: 'text'; text: string } | { kind: 'action'; body: string })[] = [];
  let last = 0;
  let trimNext = false;
  for (const match of source.matchAll(ACTION)) {
    let text = source.slice(last, match.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (match[1] === '-') text = text.replace(/\s+$/, '');
    flat.push({ kind: 'text', text });
    flat.push({ kind: 'action', body: match[2] ?? '' });
    trimNext = match[3] === '-';
    last = (match.index ?? 0) + match[0].length;
  }
  let tail = source.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  flat.push({ kind: 'text', text: tail });

  const root: Node[] = [];
  const stack: { nodes: Node[]; open?: { type: 'if' | 'range'; expr: string } }[] = [{ nodes: root }];
  for (const token of flat) {
    const top = stack.at(-1)!;
    if (token.kind === 'text') {
      if (token.text) top.nodes.push({ type: 'text', text: token.text });
      continue;
    }
    const [keyword, ...rest] = token.body.split(/\s+/);
    if (keyword === 'if' || keyword === 'range') {
      stack.push({ nodes: [], open: { type: keyword, expr: rest.join(' ') } });
    } else if (keyword === 'end') {
      const closed = stack.pop();
      if (!closed?.open) throw new Error('template: {{ end }} without if/range');
      stack.at(-1)!.nodes.push({ type: closed.open.type, expr: closed.open.expr, body: closed.nodes });
    } else if (keyword?.startsWith('/*')) {
      // a comment
    } else if (['else', 'with', 'define', 'template', 'include', 'block'].includes(keyword ?? '')) {
      throw new Error(`template: "${keyword}" is outside the subset this renderer supports`);
    } else top.nodes.push({ type: 'expr', expr: token.body });
  }
  if (stack.length !== 1) throw new Error('template: unclosed if/range');
  return root;
}

function lookup(path: string, scope: Scope): Value {
  if (path === '.') return scope.dot;
  if (!path.startsWith('.')) throw new Error(`template: unsupported term ${path}`);
  const parts = path.slice(1).split('.');
  const top = parts[0] ?? '';
  let current: Value = ['Values', 'Release', 'Chart'].includes(top) ? scope.root : scope.dot;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, Value>)[part];
  }
  return current;
}

function toYaml(value: Value): string {
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

function applyFunction(name: string, args: string[], input: Value): Value {
  switch (name) {
    case 'quote':
      return JSON.stringify(input === undefined || input === null ? '' : String(input));
    case 'toYaml':
      return toYaml(input);
    case 'toJson':
      return JSON.stringify(input ?? null);
    case 'nindent':
    case 'indent': {
      const width = Number(args[0]);
      if (!Number.isInteger(width)) throw new Error(`template: ${name} needs a width`);
      const pad = ' '.repeat(width);
      const indented = String(input)
        .split('\n')
        .map((line) => pad + line)
        .join('\n');
      return name === 'nindent' ? `\n${indented}` : indented;
    }
    default:
      throw new Error(`template: function ${name} is outside the subset`);
  }
}

function evaluate(expr: string, scope: Scope): Value {
  const stages = expr.split('|').map((stage) => stage.trim().split(/\s+/));
  const [first, ...rest] = stages;
  if (!first || first.length === 0) throw new Error(`template: empty expression in {{ ${expr} }}`);
  let value: Value;
  if (first.length === 1) value = lookup(first[0]!, scope);
  else if (first.length === 2 && (first[0] === 'toYaml' || first[0] === 'toJson'))
    value = applyFunction(first[0], [], lookup(first[1]!, scope));
  else throw new Error(`template: unsupported expression {{ ${expr} }}`);
  for (const [name, ...args] of rest) value = applyFunction(name!, args, value);
  return value;
}

function truthy(value: Value): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function renderNodes(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.type === 'text') out += node.text;
    else if (node.type === 'expr') {
      const value = evaluate(node.expr, scope);
      if (value === undefined) throw new Error(`template: {{ ${node.expr} }} has no value`);
      out += typeof value === 'string' ? value : String(value);
    } else if (node.type === 'if') {
      if (truthy(evaluate(node.expr, scope))) out += renderNodes(node.body, scope);
    } else {
      const items = evaluate(node.expr, scope);
      if (!Array.isArray(items)) throw new Error(`template: range over a non-list ${node.expr}`);
      for (const item of items) out += renderNodes(node.body, { root: scope.root, dot: item });
    }
  }
  return out;
}

export interface ChartRelease {
  readonly name: string;
  readonly namespace: string;
}

/** Helm-style deep merge: maps merge, everything else is replaced. */
function mergeValues(base: Value, override: Value): Value {
  if (
    base &&
    override &&
    typeof base === 'object' &&
    typeof override === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(override)
  ) {
    const out: Record<string, Value> = { ...(base as Record<string, Value>) };
    for (const [key, value] of Object.entries(override)) out[key] = mergeValues(out[key], value);
    return out;
  }
  return override === undefined ? base : override;
}

/** Renders every template of the chart at `chartDir`; resolves to the documents, each with its template file. */
export function renderChart(
  chartDir: string,
  release: ChartRelease,
  overrides: Record<string, Value> = {},
): { file: string; object: Record<string, Value> }[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, Value>;
  const values = mergeValues(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')), overrides);
  const root = {
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm' },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
  const documents: { file: string; object: Record<string, Value> }[] = [];
  const templates = join(chartDir, 'templates');
  for (const file of readdirSync(templates).sort()) {
    if (!file.endsWith('.yaml')) continue;
    const text = renderNodes(tokenize(readFileSync(join(templates, file), 'utf8')), { root, dot: root });
    for (const part of text.split(/^---\s*$/m)) {
      const object = parse(part) as Record<string, Value> | null;
      if (object) documents.push({ file, object });
    }
  }
  return documents;
}
