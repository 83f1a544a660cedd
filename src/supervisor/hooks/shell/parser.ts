import type {
  Assignment,
  CommandNode,
  Connector,
  HereDocument,
  ListNode,
  Pipeline,
  Redirect,
  RedirectOp,
  Word,
} from './ast.ts';
import { compound, expect, parseCase, parseFor, parseIf, parseTest, required } from './compound.ts';
import { Cursor } from './cursor.ts';
import { newline, skipBlanks, skipBlanksAndNewlines } from './lexing.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';
import { readWord, type WordContext } from './words.ts';

// A recursive-descent parser for the bash subset of docs/hooks.md: lists, pipelines, subshells,
// groups, if/while/until/for/case, [[ ]], redirections and here-documents. Anything else — a
// function or alias definition, arithmetic, arrays, select, coproc — is refused with a reason.

export const NO_STOPS: ReadonlySet<string> = new Set();
export const stops = (...words: string[]): ReadonlySet<string> => new Set(words);
const REDIRECT = /^(\d{1,9})?(&>>|&>|<<<|<<-|<<|<>|<&|>&|>>|>\||<|>)/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\[)?(\+?)=/;

export const CONTEXT: WordContext = {
  nested(cur) {
    const body = parseList(cur, NO_STOPS);
    skipBlanksAndNewlines(cur, CONTEXT);
    if (cur.peek() !== ')') throw new ShellUnverifiable('unbalanced $( or <(', HINT.quotes);
    cur.pos += 1;
    return body;
  },
  source(text, depth) {
    return parseShell(text, depth);
  },
};

/**
 * Parses a complete command string.
 * @param depth nesting already spent by enclosing parses (`bash -c` inside `$(...)`, …)
 * @throws ShellUnverifiable when the text is not (certainly) understood
 */
export function parseShell(source: string, depth = 0): ListNode {
  const cur = new Cursor(source, depth);
  cur.enter();
  const list = parseList(cur, NO_STOPS);
  skipBlanksAndNewlines(cur, CONTEXT);
  if (!cur.done) throw cur.syntax(`unexpected "${cur.peek()}"`);
  if (cur.pending.length > 0)
    throw new ShellUnverifiable(`here-document "${cur.pending[0]?.delimiter}" has no body`, HINT.quotes);
  return list;
}

function atListEnd(cur: Cursor, stopWords: ReadonlySet<string>): boolean {
  if (cur.done || cur.peek() === ')' || cur.at(';;') || cur.at(';&')) return true;
  const word = cur.staticWord();
  return word !== null && stopWords.has(word);
}

export function parseList(cur: Cursor, stopWords: ReadonlySet<string>): ListNode {
  const items: { pipeline: Pipeline; next: Connector }[] = [];
  for (;;) {
    skipBlanksAndNewlines(cur, CONTEXT);
    if (atListEnd(cur, stopWords)) return { items };
    const pipeline = parsePipeline(cur);
    skipBlanks(cur);
    if (cur.at('&&') || cur.at('||')) {
      const op = cur.at('&&') ? '&&' : '||';
      cur.pos += 2;
      items.push({ pipeline, next: op });
      skipBlanksAndNewlines(cur, CONTEXT);
      if (atListEnd(cur, stopWords)) throw cur.syntax(`nothing after ${op}`);
      continue;
    }
    const c = cur.peek();
    if (c === ';' && !cur.at(';;') && !cur.at(';&')) {
      cur.pos += 1;
      items.push({ pipeline, next: ';' });
    } else if (c === '&') {
      cur.pos += 1;
      items.push({ pipeline, next: '&' });
    } else if (c === '\n') {
      newline(cur, CONTEXT);
      items.push({ pipeline, next: ';' });
    } else {
      items.push({ pipeline, next: 'end' });
      if (atListEnd(cur, stopWords)) return { items };
      throw cur.syntax(`unexpected "${c}"`);
    }
  }
}

function parsePipeline(cur: Cursor): Pipeline {
  for (;;) {
    skipBlanks(cur);
    const word = cur.staticWord();
    if (word === '!') cur.pos += 1;
    else if (word === 'time') {
      cur.pos += 4;
      skipBlanks(cur);
      if (cur.staticWord() === '-p') cur.pos += 2;
    } else break;
  }
  const commands = [parseCommand(cur)];
  for (;;) {
    skipBlanks(cur);
    if (!cur.at('|') || cur.at('||')) return { commands };
    cur.pos += cur.at('|&') ? 2 : 1;
    skipBlanksAndNewlines(cur, CONTEXT);
    commands.push(parseCommand(cur));
  }
}

function parseCommand(cur: Cursor): CommandNode {
  cur.enter();
  try {
    return parseCommandAt(cur);
  } finally {
    cur.leave();
  }
}

function parseCommandAt(cur: Cursor): CommandNode {
  skipBlanks(cur);
  if (cur.at('((')) throw new ShellUnverifiable('arithmetic command ((...))', HINT.arithmetic);
  if (cur.peek() === '(') {
    cur.pos += 1;
    const body = required(cur, parseList(cur, NO_STOPS), '( )');
    skipBlanksAndNewlines(cur, CONTEXT);
    if (cur.peek() !== ')') throw new ShellUnverifiable('unbalanced (', HINT.quotes);
    cur.pos += 1;
    return compound(cur, 'subshell', [body], []);
  }
  const word = cur.staticWord();
  switch (word) {
    case '{': {
      cur.pos += 1;
      const body = required(cur, parseList(cur, stops('}')), '{ }');
      expect(cur, '}');
      return compound(cur, 'group', [body], []);
    }
    case 'if':
      return parseIf(cur);
    case 'while':
    case 'until': {
      cur.pos += word.length;
      const condition = required(cur, parseList(cur, stops('do')), word);
      expect(cur, 'do');
      const body = required(cur, parseList(cur, stops('done')), 'do');
      expect(cur, 'done');
      return compound(cur, word, [condition, body], []);
    }
    case 'for':
      return parseFor(cur);
    case 'case':
      return parseCase(cur);
    case '[[':
      return parseTest(cur);
    case 'function':
      throw new ShellUnverifiable('function definition', HINT.function);
    case 'select':
    case 'coproc':
      throw new ShellUnverifiable(`"${word}" is not verified`, HINT.simpler);
    case 'then':
    case 'elif':
    case 'else':
    case 'fi':
    case 'do':
    case 'done':
    case 'esac':
    case '}':
    case ']]':
      throw cur.syntax(`unexpected "${word}"`);
    default:
      return parseSimple(cur);
  }
}

export function tryRedirect(cur: Cursor): Redirect | null {
  if (/^\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/.test(cur.src.slice(cur.pos, cur.pos + 80)))
    throw new ShellUnverifiable('redirection to a named descriptor {var}>', HINT.simpler);
  const match = REDIRECT.exec(cur.src.slice(cur.pos, cur.pos + 16));
  if (!match) return null;
  const [text, digits, opText] = match as unknown as [string, string | undefined, RedirectOp];
  if (digits && opText.startsWith('&')) return null;
  cur.pos += text.length;
  const fd = digits ? Number(digits) : null;
  skipBlanks(cur);
  const target = readWord(cur, CONTEXT);
  if (target.parts.length === 0) throw cur.syntax(`redirection ${opText} without a target`);
  if (opText !== '<<' && opText !== '<<-') return { op: opText, fd, target, heredoc: null };
  if (target.parts.some((part) => part.kind !== 'text'))
    throw new ShellUnverifiable('here-document delimiter with an expansion', HINT.simpler);
  const heredoc: HereDocument = {
    delimiter: target.parts.map((part) => (part.kind === 'text' ? part.value : '')).join(''),
    quoted: target.parts.some((part) => part.kind === 'text' && part.quoted),
    stripTabs: opText === '<<-',
    body: null,
    parts: null,
  };
  cur.pending.push(heredoc);
  return { op: opText, fd, target: null, heredoc };
}

function parseSimple(cur: Cursor): CommandNode {
  const assignments: Assignment[] = [];
  const words: Word[] = [];
  const redirects: Redirect[] = [];
  for (;;) {
    skipBlanks(cur);
    const c = cur.peek();
    if (c === undefined || c === '\n' || c === ';' || c === '|' || c === ')') break;
    if (c === '&' && !cur.at('&>')) break;
    if (c === '(') {
      if (words.length === 1 && assignments.length === 0)
        throw new ShellUnverifiable('function definition', HINT.function);
      throw cur.syntax('unexpected "("');
    }
    if ((c === '<' || c === '>') && cur.peek(1) === '(') {
      words.push(readWord(cur, CONTEXT));
      continue;
    }
    const redirect = tryRedirect(cur);
    if (redirect) {
      redirects.push(redirect);
      continue;
    }
    const word = readWord(cur, CONTEXT);
    const assignment = words.length === 0 ? asAssignment(cur, word) : null;
    if (assignment) assignments.push(assignment);
    else words.push(word);
  }
  if (assignments.length + words.length + redirects.length === 0) throw cur.syntax('expected a command');
  return { type: 'simple', assignments, words, redirects };
}

function asAssignment(cur: Cursor, word: Word): Assignment | null {
  const first = word.parts[0];
  if (first?.kind !== 'text' || first.quoted) return null;
  const match = ASSIGNMENT.exec(first.value);
  if (!match) {
    if (/^[A-Za-z_][A-Za-z0-9_]*\[/.test(first.value) && word.source.includes(']='))
      throw new ShellUnverifiable('assignment to an array element', HINT.arithmetic);
    return null;
  }
  if (match[2]) throw new ShellUnverifiable('assignment to an array element', HINT.arithmetic);
  if (cur.peek() === '(') throw new ShellUnverifiable('array assignment NAME=(...)', HINT.simpler);
  const rest = first.value.slice(match[0].length);
  const parts = rest ? [{ ...first, value: rest }, ...word.parts.slice(1)] : word.parts.slice(1);
  return {
    name: match[1] as string,
    append: match[3] === '+',
    value: { parts, source: word.source.slice(match[0].length) },
  };
}
