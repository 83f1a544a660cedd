// The syntax tree of the bash subset the hook adapters verify (docs/hooks.md, "Shell parsing").
// It keeps only what the analysis needs: which words make up each command, where their values
// come from (literal text or a run-time expansion), which nested command lists run, and the
// redirections. Connectors between pipelines are kept because `cd` is only certain along `&&`.

/** One piece of a word. `quoted` pieces are not subject to globbing, brace expansion or splitting. */
export type WordPart =
  | { readonly kind: 'text'; readonly value: string; readonly quoted: boolean }
  /** `$NAME`, `${NAME}`, `${NAME:-word}`, `$1`, `$@`: a value known only at run time. */
  | {
      readonly kind: 'param';
      readonly source: string;
      readonly quoted: boolean;
      /** Pieces of the operator's word (`${X:-$(cmd)}`), which may hold substitutions. */
      readonly inner: readonly WordPart[];
    }
  /** `$(list)` or a backquoted list: runs the list, its output becomes text. */
  | { readonly kind: 'command'; readonly source: string; readonly quoted: boolean; readonly body: ListNode }
  /** `<(list)` or `>(list)`: runs the list, the word becomes a /dev/fd path. */
  | { readonly kind: 'process'; readonly source: string; readonly body: ListNode };

export interface Word {
  readonly parts: readonly WordPart[];
  /** The word as written, for messages and for argv entries whose value is dynamic. */
  readonly source: string;
}

export type RedirectOp = '<' | '>' | '>>' | '>|' | '<>' | '&>' | '&>>' | '<&' | '>&' | '<<' | '<<-' | '<<<';

export interface HereDocument {
  readonly delimiter: string;
  /** A quoted delimiter (`<<'EOF'`) makes the body literal; otherwise it is expanded. */
  readonly quoted: boolean;
  readonly stripTabs: boolean;
  /** Filled in when the parser reaches the end of the line that holds the `<<`. */
  body: string | null;
  /** The expanded body's pieces (unquoted delimiters only). */
  parts: readonly WordPart[] | null;
}

export interface Redirect {
  readonly op: RedirectOp;
  readonly fd: number | null;
  /** The file, descriptor or here-string word; null for here-documents. */
  readonly target: Word | null;
  readonly heredoc: HereDocument | null;
}

export interface Assignment {
  readonly name: string;
  readonly append: boolean;
  readonly value: Word;
}

export interface SimpleCommand {
  readonly type: 'simple';
  readonly assignments: readonly Assignment[];
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

/**
 * `( list )`, `{ list; }`, if, while, until, for and case. Every list may run (the analysis does
 * not evaluate conditions); `words` are the for-loop items and the case subject and patterns.
 */
export interface CompoundCommand {
  readonly type: 'subshell' | 'group' | 'if' | 'while' | 'until' | 'for' | 'case';
  readonly lists: readonly ListNode[];
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

/** `[[ expression ]]`: its operands and operators as words. */
export interface TestCommand {
  readonly type: 'test';
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

export type CommandNode = SimpleCommand | CompoundCommand | TestCommand;

export interface Pipeline {
  readonly commands: readonly CommandNode[];
}

/** What joins a pipeline to the next one. */
export type Connector = '&&' | '||' | ';' | '&' | 'end';

export interface ListNode {
  readonly items: readonly { readonly pipeline: Pipeline; readonly next: Connector }[];
}
