import type { HereDocument } from './ast.ts';
import type { Cursor } from './cursor.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';
import { readHeredocBody, type WordContext } from './words.ts';

// Blanks, comments, line continuations and newlines between tokens. A newline is where the
// bodies of the here-documents opened on its line begin, so every newline goes through here.

export function skipBlanks(cur: Cursor): void {
  for (;;) {
    const c = cur.peek();
    if (c === ' ' || c === '\t') cur.pos += 1;
    else if (c === '\\' && cur.peek(1) === '\n') cur.pos += 2;
    else if (c === '#') {
      const end = cur.src.indexOf('\n', cur.pos);
      cur.pos = end === -1 ? cur.src.length : end;
    } else return;
  }
}

export function skipBlanksAndNewlines(cur: Cursor, ctx: WordContext): void {
  for (;;) {
    skipBlanks(cur);
    if (cur.peek() !== '\n') return;
    newline(cur, ctx);
  }
}

/** Consumes a newline and then the bodies of the here-documents opened on that line. */
export function newline(cur: Cursor, ctx: WordContext): void {
  cur.pos += 1;
  for (const doc of cur.pending.splice(0)) readHeredoc(cur, doc, ctx);
}

function readHeredoc(cur: Cursor, doc: HereDocument, ctx: WordContext): void {
  let body = '';
  for (;;) {
    if (cur.done)
      throw new ShellUnverifiable(`here-document "${doc.delimiter}" is not terminated`, HINT.quotes);
    const end = cur.src.indexOf('\n', cur.pos);
    const raw = cur.src.slice(cur.pos, end === -1 ? cur.src.length : end);
    cur.pos = end === -1 ? cur.src.length : end + 1;
    const line = doc.stripTabs ? raw.replace(/^\t+/, '') : raw;
    if (line === doc.delimiter) break;
    body += `${line}\n`;
  }
  doc.body = body;
  if (!doc.quoted) doc.parts = readHeredocBody(body, ctx, cur.level + 1);
}
