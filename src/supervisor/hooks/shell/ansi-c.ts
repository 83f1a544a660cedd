import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Bash's ANSI-C quoting, $'...': backslash escapes are decoded, nothing is expanded.
// Decoding matters because $'\x63url' is the word "curl".

const SIMPLE: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/**
 * Reads an ANSI-C quoted string whose `$'` starts at `start`.
 * @returns the decoded text and the index just past the closing quote.
 */
export function readAnsiC(src: string, start: number): { value: string; end: number } {
  let out = '';
  let i = start + 2;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "'") return { value: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      i += 1;
      continue;
    }
    const e = src[i + 1];
    if (e === undefined) break;
    const simple = SIMPLE[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    const digits = (re: RegExp, from: number) => re.exec(src.slice(from))?.[0] ?? '';
    if (/[0-7]/.test(e)) {
      const oct = digits(/^[0-7]{1,3}/, i + 1);
      out += String.fromCharCode(Number.parseInt(oct, 8) & 0xff);
      i += 1 + oct.length;
    } else if (e === 'x') {
      const hex = digits(/^[0-9a-fA-F]{1,2}/, i + 2);
      out += hex ? String.fromCharCode(Number.parseInt(hex, 16)) : '\\x';
      i += 2 + hex.length;
    } else if (e === 'u' || e === 'U') {
      const hex = digits(e === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/, i + 2);
      const code = hex ? Number.parseInt(hex, 16) : Number.NaN;
      if (!hex || code > 0x10ffff) out += `\\${e}${hex}`;
      else out += String.fromCodePoint(code);
      i += 2 + hex.length;
    } else if (e === 'c') {
      const ch = src[i + 2];
      if (ch === undefined) break;
      out += String.fromCharCode(ch.toUpperCase().charCodeAt(0) & 0x1f);
      i += 3;
    } else {
      out += `\\${e}`;
      i += 2;
    }
  }
  throw new ShellUnverifiable("unbalanced quote in $'...'", HINT.quotes);
}
