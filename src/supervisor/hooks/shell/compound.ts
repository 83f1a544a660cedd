import type { CommandNode, CompoundCommand, ListNode, Redirect, Word } from './ast.ts';
import type { Cursor } from './cursor.ts';
import { newline, skipBlanks, skipBlanksAndNewlines } from './lexing.ts';
import { CONTEXT, parseList, stops, tryRedirect } from './parser.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';
import { readWord } from './words.ts';

// Compound commands: ( ), { }, if, while, until, for … in, case and [[ ]]. Each is parsed to
// its lists and words; the analysis treats every list as one that may run.

export function required(cur: Cursor, list: ListNode, where: string): ListNode {
  if (list.items.length === 0) throw cur.syntax(`empty command list in ${where}`);
  return list;
}

export function expect(cur: Cursor, word: string): void {
  skipBlanksAndNewlines(cur, CONTEXT);
  if (cur.staticWord() !== word) throw cur.syntax(`expected "${word}"`);
  cur.pos += word.length;
}

export function compound(
  cur: Cursor,
  type: CompoundCommand['type'],
  lists: ListNode[],
  words: Word[],
): CompoundCommand {
  const redirects: Redirect[] = [];
  for (;;) {
    skipBlanks(cur);
    const redirect = tryRedirect(cur);
    if (!redirect) return { type, lists, words, redirects };
    redirects.push(redirect);
  }
}

export function parseIf(cur: Cursor): CommandNode {
  cur.pos += 2;
  const lists: ListNode[] = [];
  for (;;) {
    lists.push(required(cur, parseList(cur, stops('then')), 'if'));
    expect(cur, 'then');
    lists.push(required(cur, parseList(cur, stops('elif', 'else', 'fi')), 'then'));
    const next = cur.staticWord();
    cur.pos += next?.length ?? 0;
    if (next === 'elif') continue;
    if (next === 'else') {
      lists.push(required(cur, parseList(cur, stops('fi')), 'else'));
      expect(cur, 'fi');
    } else if (next !== 'fi') throw cur.syntax('expected "fi"');
    return compound(cur, 'if', lists, []);
  }
}

export function parseFor(cur: Cursor): CommandNode {
  cur.pos += 3;
  skipBlanks(cur);
  if (cur.at('((')) throw new ShellUnverifiable('arithmetic for ((...))', HINT.arithmetic);
  const name = cur.staticWord();
  if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw cur.syntax('for without a variable name');
  cur.pos += name.length;
  const words: Word[] = [];
  skipBlanksAndNewlines(cur, CONTEXT);
  if (cur.staticWord() === 'in') {
    cur.pos += 2;
    for (;;) {
      skipBlanks(cur);
      const c = cur.peek();
      if (c === ';' || c === '\n') {
        if (c === ';') cur.pos += 1;
        else newline(cur, CONTEXT);
        break;
      }
      if (c === undefined || c === '&' || c === '|' || c === ')') throw cur.syntax('for ... in without ;');
      words.push(readWord(cur, CONTEXT));
    }
  } else if (cur.peek() === ';') cur.pos += 1;
  expect(cur, 'do');
  const body = required(cur, parseList(cur, stops('done')), 'do');
  expect(cur, 'done');
  return compound(cur, 'for', [body], words);
}

export function parseCase(cur: Cursor): CommandNode {
  cur.pos += 4;
  skipBlanks(cur);
  const words = [readWord(cur, CONTEXT)];
  expect(cur, 'in');
  const lists: ListNode[] = [];
  for (;;) {
    skipBlanksAndNewlines(cur, CONTEXT);
    if (cur.staticWord() === 'esac') {
      cur.pos += 4;
      return compound(cur, 'case', lists, words);
    }
    if (cur.peek() === '(') cur.pos += 1;
    for (;;) {
      skipBlanks(cur);
      words.push(readWord(cur, CONTEXT));
      skipBlanks(cur);
      const c = cur.peek();
      cur.pos += 1;
      if (c === ')') break;
      if (c !== '|') throw cur.syntax('case pattern without )');
    }
    lists.push(parseList(cur, stops('esac')));
    skipBlanksAndNewlines(cur, CONTEXT);
    if (cur.at(';;&')) cur.pos += 3;
    else if (cur.at(';;') || cur.at(';&')) cur.pos += 2;
    else if (cur.staticWord() !== 'esac') throw cur.syntax('case arm without ;;');
  }
}

/** `[[ ... ]]`: operands are words; `&& || ( ) < > !` inside are operators, not control. */
export function parseTest(cur: Cursor): CommandNode {
  cur.pos += 2;
  const words: Word[] = [];
  for (;;) {
    skipBlanks(cur);
    if (cur.peek() === '\n') {
      newline(cur, CONTEXT);
      continue;
    }
    if (cur.done) throw new ShellUnverifiable('unbalanced [[', HINT.quotes);
    if (cur.staticWord() === ']]') {
      cur.pos += 2;
      break;
    }
    const op = /^[()|&<>;]+/.exec(cur.src.slice(cur.pos))?.[0];
    if (op) {
      if (op.includes(';')) throw cur.syntax('";" inside [[ ]]');
      words.push({ parts: [{ kind: 'text', value: op, quoted: false }], source: op });
      cur.pos += op.length;
    } else words.push(readWord(cur, CONTEXT));
  }
  const node = compound(cur, 'group', [], []);
  return { type: 'test', words, redirects: node.redirects };
}
