import { readAnsiC } from './ansi-c.ts';
import type { ListNode, Word, WordPart } from './ast.ts';
import { Cursor, isMeta } from './cursor.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Words: quoting, escapes and expansions. Substitutions are parsed as command lists on the
// spot (through `WordContext`), so `$(...)` nested in quotes nested in `$(...)` is followed to
// any depth the cursor allows. Constructs whose effect depends on run-time values in ways the
// analysis cannot follow (arithmetic, indirection, subscripts, prompt expansion) fail closed.

export interface WordContext {
  /** Parses the list of a `$(` or `<(` whose opening the cursor has just passed, and its `)`. */
  nested(cur: Cursor): ListNode;
  /** Parses a complete source (a backquoted command) one nesting level deeper. */
  source(text: string, depth: number): ListNode;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '$', '!', '-', '_']);
const BRACE_OPERATORS = [
  ':-',
  ':=',
  ':?',
  ':+',
  '-',
  '=',
  '?',
  '+',
  '##',
  '#',
  '%%',
  '%',
  '//',
  '/',
  '^^',
  '^',
  ',,',
  ',',
];

function pushText(parts: WordPart[], value: string, quoted: boolean): void {
  const last = parts[parts.length - 1];
  if (last?.kind === 'text' && last.quoted === quoted)
    parts[parts.length - 1] = { ...last, value: last.value + value };
  else parts.push({ kind: 'text', value, quoted });
}

function arithmetic(what: string): ShellUnverifiable {
  return new ShellUnverifiable(`arithmetic ${what}`, HINT.arithmetic);
}

/** `$(`, `${`, `$'`, `$"`, `$NAME`, `$1`, `$@` … at the cursor (which is on the `$`). */
function readDollar(cur: Cursor, ctx: WordContext, parts: WordPart[], quoted: boolean): void {
  const start = cur.pos;
  const next = cur.peek(1);
  if (next === '(') {
    if (cur.peek(2) === '(') throw arithmetic('expansion $((...))');
    cur.pos += 2;
    cur.enter();
    const body = ctx.nested(cur);
    cur.leave();
    parts.push({ kind: 'command', source: cur.src.slice(start, cur.pos), quoted, body });
  } else if (next === '[') {
    throw arithmetic('expansion $[...]');
  } else if (next === '{') {
    readBraceParam(cur, ctx, parts, quoted);
  } else if (next === "'" && !quoted) {
    const { value, end } = readAnsiC(cur.src, cur.pos);
    cur.pos = end;
    pushText(parts, value, true);
  } else if (next === '"' && !quoted) {
    cur.pos += 1;
    readDoubleQuoted(cur, ctx, parts);
  } else {
    const name = NAME.exec(cur.src.slice(cur.pos + 1))?.[0];
    const length = name
      ? name.length
      : next !== undefined && (/[0-9]/.test(next) || SPECIAL_PARAMS.has(next))
        ? 1
        : 0;
    if (length === 0) {
      pushText(parts, '$', quoted);
      cur.pos += 1;
      return;
    }
    cur.pos += 1 + length;
    parts.push({ kind: 'param', source: cur.src.slice(start, cur.pos), quoted, inner: [] });
  }
}

/** `${NAME}`, `${#NAME}` and `${NAME<op>word}`; the word may hold quotes and substitutions. */
function readBraceParam(cur: Cursor, ctx: WordContext, parts: WordPart[], quoted: boolean): void {
  const start = cur.pos;
  cur.pos += 2;
  if (cur.peek() === '!')
    throw new ShellUnverifiable('indirect parameter expansion', 'use the variable directly');
  const length = cur.peek() === '#' && cur.peek(1) !== '}';
  if (length) cur.pos += 1;
  const rest = cur.src.slice(cur.pos);
  const name =
    NAME.exec(rest)?.[0] ?? /^[0-9]+/.exec(rest)?.[0] ?? (SPECIAL_PARAMS.has(rest[0] ?? '') ? rest[0] : '');
  if (!name) throw cur.syntax('a parameter expansion without a variable name');
  cur.pos += name.length;
  if (cur.peek() === '[') throw arithmetic('array subscript in a parameter expansion');
  const inner: WordPart[] = [];
  if (cur.peek() !== '}') {
    if (length) throw cur.syntax('a length expansion with an operator');
    const op = BRACE_OPERATORS.find((candidate) => cur.at(candidate));
    if (!op) {
      const what =
        cur.peek() === ':'
          ? 'substring offsets in a parameter expansion'
          : cur.peek() === '@'
            ? 'a transformation (@) in a parameter expansion'
            : 'this parameter expansion operator';
      throw new ShellUnverifiable(`${what} not verified`, HINT.simpler);
    }
    cur.pos += op.length;
    readParamWord(cur, ctx, inner, quoted);
  }
  if (cur.peek() !== '}') throw new ShellUnverifiable('unbalanced parameter expansion', HINT.quotes);
  cur.pos += 1;
  parts.push({ kind: 'param', source: cur.src.slice(start, cur.pos), quoted, inner });
}

/** The word after a `${NAME<op>` up to the closing brace. */
function readParamWord(cur: Cursor, ctx: WordContext, parts: WordPart[], quoted: boolean): void {
  let braces = 0;
  while (!cur.done) {
    const c = cur.peek() as string;
    if (c === '}' && braces === 0) return;
    if (c === '\\') {
      pushText(parts, cur.peek(1) ?? '', true);
      cur.pos += 2;
    } else if (c === "'" && !quoted) {
      readSingleQuoted(cur, parts);
    } else if (c === '"') {
      cur.pos += 1;
      readDoubleQuoted(cur, ctx, parts);
    } else if (c === '$') {
      readDollar(cur, ctx, parts, quoted);
    } else if (c === '`') {
      readBackquoted(cur, ctx, parts, quoted);
    } else {
      if (c === '{') braces += 1;
      if (c === '}') braces -= 1;
      pushText(parts, c, quoted);
      cur.pos += 1;
    }
  }
}

function readSingleQuoted(cur: Cursor, parts: WordPart[]): void {
  const end = cur.src.indexOf("'", cur.pos + 1);
  if (end === -1) throw new ShellUnverifiable('unbalanced single quote', HINT.quotes);
  pushText(parts, cur.src.slice(cur.pos + 1, end), true);
  cur.pos = end + 1;
}

/**
 * The inside of "..." (the cursor is past the opening quote) up to and past the closing one.
 * With `heredoc` there is no closing quote: the whole remaining source is read, and `"` is
 * an ordinary character, as in an unquoted here-document body.
 */
export function readDoubleQuoted(cur: Cursor, ctx: WordContext, parts: WordPart[], heredoc = false): void {
  const escapable = heredoc ? '$`\\\n' : '$`"\\\n';
  while (!cur.done) {
    const c = cur.peek() as string;
    if (c === '"' && !heredoc) {
      cur.pos += 1;
      return;
    }
    if (c === '\\' && escapable.includes(cur.peek(1) ?? '')) {
      if (cur.peek(1) !== '\n') pushText(parts, cur.peek(1) as string, true);
      cur.pos += 2;
    } else if (c === '$') {
      readDollar(cur, ctx, parts, true);
    } else if (c === '`') {
      readBackquoted(cur, ctx, parts, true);
    } else {
      pushText(parts, c, true);
      cur.pos += 1;
    }
  }
  if (!heredoc) throw new ShellUnverifiable('unbalanced double quote', HINT.quotes);
}

/** A backquoted command: the text up to the matching backquote, unescaped, parsed on its own. */
function readBackquoted(cur: Cursor, ctx: WordContext, parts: WordPart[], quoted: boolean): void {
  const start = cur.pos;
  let inner = '';
  let i = cur.pos + 1;
  for (;;) {
    const c = cur.src[i];
    if (c === undefined) throw new ShellUnverifiable('unbalanced backquote', HINT.quotes);
    if (c === '`') break;
    if (c === '\\' && '$`\\'.includes(cur.src[i + 1] ?? '')) {
      inner += cur.src[i + 1];
      i += 2;
    } else {
      inner += c;
      i += 1;
    }
  }
  cur.pos = i + 1;
  const body = ctx.source(inner, cur.level + 1);
  parts.push({ kind: 'command', source: cur.src.slice(start, cur.pos), quoted, body });
}

/** `<(list)` or `>(list)` at the cursor. */
function readProcessSubstitution(cur: Cursor, ctx: WordContext, parts: WordPart[]): void {
  const start = cur.pos;
  cur.pos += 2;
  cur.enter();
  const body = ctx.nested(cur);
  cur.leave();
  parts.push({ kind: 'process', source: cur.src.slice(start, cur.pos), body });
}

/**
 * Reads one word at the cursor: everything up to an unquoted blank or operator character.
 * @example readWord(cur, ctx) // on `"a b"$(c)d` → parts: "a b" (quoted), $(c), "d"
 */
export function readWord(cur: Cursor, ctx: WordContext): Word {
  const start = cur.pos;
  const parts: WordPart[] = [];
  if ((cur.at('<(') || cur.at('>(')) && cur.peek(2) !== '(') readProcessSubstitution(cur, ctx, parts);
  while (!cur.done) {
    const c = cur.peek() as string;
    if (isMeta(c)) break;
    if (c === '\\') {
      if (cur.peek(1) === undefined) pushText(parts, '\\', false);
      else if (cur.peek(1) !== '\n') pushText(parts, cur.peek(1) as string, true);
      cur.pos += 2;
    } else if (c === "'") {
      readSingleQuoted(cur, parts);
    } else if (c === '"') {
      cur.pos += 1;
      readDoubleQuoted(cur, ctx, parts);
    } else if (c === '$') {
      readDollar(cur, ctx, parts, false);
    } else if (c === '`') {
      readBackquoted(cur, ctx, parts, false);
    } else {
      pushText(parts, c, false);
      cur.pos += 1;
    }
  }
  return { parts, source: cur.src.slice(start, cur.pos) };
}

/** The expanded pieces of an unquoted here-document body. */
export function readHeredocBody(body: string, ctx: WordContext, depth: number): WordPart[] {
  const cur = new Cursor(body, depth);
  const parts: WordPart[] = [];
  readDoubleQuoted(cur, ctx, parts, true);
  return parts;
}
