import type { ListNode, Word, WordPart } from './ast.ts';

// From words to argv entries. A word's value is static when it is made only of text whose
// expansion cannot change it; otherwise the argv entry keeps the word as written and is marked
// dynamic (a variable, a substitution, a glob or a brace expansion: its value, and for unquoted
// words even the number of words, is only known at run time).

export interface Arg {
  /** The argument as the program receives it, or the word as written when `dynamic`. */
  readonly value: string;
  readonly dynamic: boolean;
}

const GLOB = /[*?]|\[[^\]]*\]/;
const BRACE = /\{[^{}]*(,|\.\.)[^{}]*\}/;

function unquotedExpands(part: WordPart, first: boolean): boolean {
  if (part.kind !== 'text' || part.quoted) return false;
  if (GLOB.test(part.value) || BRACE.test(part.value)) return true;
  return first && part.value.startsWith('~') && !/^~(\/|$)/.test(part.value);
}

/**
 * The argv entry for a word. A leading unquoted `~` or `~/` becomes `home`, as bash does.
 * @example wordArg(parse('"a b"'), '/home/agent') // { value: 'a b', dynamic: false }
 */
export function wordArg(word: Word, home: string): Arg {
  let value = '';
  let dynamic = false;
  word.parts.forEach((part, index) => {
    if (unquotedExpands(part, index === 0)) dynamic = true;
    if (part.kind === 'text') {
      const tilde = index === 0 && !part.quoted && /^~(\/|$)/.test(part.value);
      value += tilde ? home + part.value.slice(1) : part.value;
    } else {
      dynamic = true;
      value += part.source;
    }
  });
  return { value, dynamic };
}

function collect(parts: readonly WordPart[], into: { body: ListNode; via: string }[]): void {
  for (const part of parts) {
    if (part.kind === 'command') into.push({ body: part.body, via: '$(...)' });
    else if (part.kind === 'process') into.push({ body: part.body, via: '<(...)' });
    else if (part.kind === 'param') collect(part.inner, into);
  }
}

/** The command lists a word runs while it is expanded (substitutions, also inside ${x:-...}). */
export function nestedLists(parts: readonly WordPart[]): { body: ListNode; via: string }[] {
  const lists: { body: ListNode; via: string }[] = [];
  collect(parts, lists);
  return lists;
}

/** The static text of parts, or null when any part is an expansion. */
export function staticText(parts: readonly WordPart[]): string | null {
  let text = '';
  for (const part of parts) {
    if (part.kind !== 'text') return null;
    text += part.value;
  }
  return text;
}

/** The program name of argv[0]: its basename. */
export function programName(arg: Arg): string {
  return arg.value.slice(arg.value.lastIndexOf('/') + 1);
}
