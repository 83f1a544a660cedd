import type { HereDocument } from './ast.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// The parser's position in one source string, shared by the word reader and the grammar.

/** Substitutions, subshells and `bash -c` scripts nested deeper than this are not followed. */
export const MAX_NESTING = 24;
/** Longer command strings are not parsed (large files belong in the harness's write tool). */
export const MAX_SOURCE_CHARS = 256 * 1024;

/** Characters that end an unquoted word. */
const META = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

export function isMeta(c: string | undefined): boolean {
  return c === undefined || META.has(c);
}

export class Cursor {
  pos = 0;
  private nesting = 0;
  /** Here-documents whose bodies start after the current line. */
  readonly pending: HereDocument[] = [];
  readonly src: string;
  /** Nesting inherited from an enclosing parse (backquotes, `bash -c`). */
  readonly depth: number;

  constructor(src: string, depth: number) {
    if (src.length > MAX_SOURCE_CHARS)
      throw new ShellUnverifiable(`command longer than ${MAX_SOURCE_CHARS} characters`, HINT.simpler);
    this.src = src;
    this.depth = depth;
  }

  get done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  at(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  /** The current nesting level including the inherited depth, for nested parsers. */
  get level(): number {
    return this.depth + this.nesting;
  }

  enter(): void {
    this.nesting += 1;
    if (this.level > MAX_NESTING)
      throw new ShellUnverifiable(`nesting deeper than ${MAX_NESTING} levels`, HINT.simpler);
  }

  leave(): void {
    this.nesting -= 1;
  }

  /** The unquoted literal word at the cursor when it stands alone (reserved words, `{`, `!`). */
  staticWord(): string | null {
    const match = /^[^\s;&|<>()'"`$\\]+/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!match) return null;
    return isMeta(this.src[this.pos + match[0].length]) ? match[0] : null;
  }

  syntax(what: string): ShellUnverifiable {
    return new ShellUnverifiable(`shell syntax not understood: ${what}`, HINT.simpler);
  }
}
