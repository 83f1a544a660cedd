import { type Arg, nestedLists, programName, staticText, wordArg } from './args.ts';
import type { CommandNode, ListNode, Pipeline, Redirect, SimpleCommand, Word, WordPart } from './ast.ts';
import { checkBuiltin, checkTest } from './builtins.ts';
import { nextDirectory, redirectionTarget } from './directories.ts';
import { checkHiddenExec } from './hidden-exec.ts';
import { parseShell } from './parser.ts';
import { checkAssignment } from './sensitive.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';
import { unwrap } from './wrappers.ts';

// Walks a parsed command line and lists everything it would do: every argv that runs
// (including those inside substitutions, subshells, `bash -c` scripts and wrappers), every file
// a redirection writes or reads, and every /dev/tcp connection. Each item is checked on its own
// by the policy; one refusal refuses the whole command (docs/hooks.md).

/** One program run. */
export interface ShellExec {
  /** Arguments as the program receives them; a dynamic entry keeps its source text. */
  readonly argv: readonly string[];
  /** Indices of argv entries whose value (and, unquoted, word count) is only known at run time. */
  readonly dynamicArgs: readonly number[];
  /** The working directory, or null when a `cd` made it uncertain. */
  readonly cwd: string | null;
  /** Whether more arguments are appended at run time (xargs, find -exec … +). */
  readonly openEnded: boolean;
  /** How it is reached, e.g. "$(...)" or "xargs > sh -c"; null for a top-level command. */
  readonly via: string | null;
}

export interface ShellEffects {
  readonly execs: ShellExec[];
  /** Absolute, normalized paths written through redirections (`>`, `>>`, `&>`, `<>`). */
  readonly writes: string[];
  /** Absolute, normalized paths read through `<` and `<>`. */
  readonly reads: string[];
  /** `/dev/tcp/HOST/PORT` and `/dev/udp/HOST/PORT` redirections. */
  readonly connects: { readonly host: string; readonly port: number }[];
}

export type ShellAnalysis =
  | ({ readonly ok: true } & ShellEffects)
  | { readonly ok: false; readonly reason: string; readonly hint: string };

export interface AnalyzeOptions {
  /** Absolute working directory the command starts in; null when unknown. */
  readonly cwd: string | null;
  /** The sandbox's HOME, for `~` and a bare `cd`. */
  readonly home: string;
}

/** More programs than this in one command line are not verified. */
export const MAX_EXECS = 512;
const MAX_WRAPPING = 12;

export interface Scope {
  cwd: string | null;
  /** A `cd` ran: the directory only stays certain along `&&`. */
  uncertain: boolean;
}

export type Stdin =
  | { readonly kind: 'inherit' | 'pipe' | 'file' | 'dynamic' }
  | { readonly kind: 'text'; readonly text: string };

const chain = (via: string | null, next: string) => (via ? `${via} > ${next}` : next);
const copy = (scope: Scope): Scope => ({ cwd: scope.cwd, uncertain: false });

export class Analyzer {
  readonly effects: ShellEffects = { execs: [], writes: [], reads: [], connects: [] };
  readonly home: string;

  constructor(home: string) {
    this.home = home;
  }

  script(source: string, scope: Scope, via: string | null, depth: number, stdin: Stdin): void {
    this.list(parseShell(source, depth), scope, via, depth, stdin);
  }

  private list(node: ListNode, scope: Scope, via: string | null, depth: number, stdin: Stdin): void {
    for (const item of node.items) {
      this.pipeline(item.pipeline, scope, via, depth, stdin);
      if (item.next !== '&&' && scope.uncertain) {
        scope.cwd = null;
        scope.uncertain = false;
      }
    }
  }

  private pipeline(pipeline: Pipeline, scope: Scope, via: string | null, depth: number, stdin: Stdin): void {
    const [only, ...more] = pipeline.commands;
    if (more.length === 0) {
      this.command(only as CommandNode, scope, stdin, via, depth);
      return;
    }
    pipeline.commands.forEach((node, index) => {
      this.command(node, copy(scope), index === 0 ? stdin : { kind: 'pipe' }, via, depth);
    });
  }

  private command(node: CommandNode, scope: Scope, stdin: Stdin, via: string | null, depth: number): void {
    if (node.type === 'simple') {
      this.simple(node, scope, stdin, via, depth);
      return;
    }
    const args = this.words(node.words, scope, via, depth);
    const input = this.redirects(node.redirects, scope, via, depth) ?? stdin;
    if (node.type === 'test') {
      checkTest(args);
      return;
    }
    if (node.type === 'group') {
      for (const list of node.lists) this.list(list, scope, via, depth, input);
      return;
    }
    const start = scope.cwd;
    let moved = false;
    for (const list of node.lists) {
      const inner = copy(scope);
      this.list(list, inner, via, depth, input);
      if (inner.cwd !== start) moved = true;
    }
    if (moved && node.type !== 'subshell') scope.cwd = null;
  }

  private nested(parts: readonly WordPart[], scope: Scope, via: string | null, depth: number): void {
    for (const { body, via: how } of nestedLists(parts))
      this.list(body, copy(scope), chain(via, how), depth, { kind: 'inherit' });
  }

  private words(words: readonly Word[], scope: Scope, via: string | null, depth: number): Arg[] {
    return words.map((word) => {
      this.nested(word.parts, scope, via, depth);
      return wordArg(word, this.home);
    });
  }

  private simple(node: SimpleCommand, scope: Scope, stdin: Stdin, via: string | null, depth: number): void {
    for (const assignment of node.assignments) {
      this.nested(assignment.value.parts, scope, via, depth);
      checkAssignment(assignment.name, wordArg(assignment.value, this.home));
    }
    const args = this.words(node.words, scope, via, depth);
    const input = this.redirects(node.redirects, scope, via, depth) ?? stdin;
    if (args.length > 0) this.run(args, scope, input, via, depth, false, false);
  }

  /** Records the redirections' files; returns the standard input they set, if any. */
  private redirects(
    redirects: readonly Redirect[],
    scope: Scope,
    via: string | null,
    depth: number,
  ): Stdin | null {
    let stdin: Stdin | null = null;
    for (const r of redirects) {
      const toStdin = r.fd === null || r.fd === 0;
      if (r.heredoc) {
        const doc = r.heredoc;
        if (doc.parts) this.nested(doc.parts, scope, via, depth);
        const text = doc.quoted ? doc.body : doc.parts && staticText(doc.parts);
        if (toStdin) stdin = text === null ? { kind: 'dynamic' } : { kind: 'text', text: text ?? '' };
        continue;
      }
      const target = r.target as Word;
      this.nested(target.parts, scope, via, depth);
      const arg = wordArg(target, this.home);
      if (target.parts.length === 1 && target.parts[0]?.kind === 'process') {
        // `< <(cmd)`: a pipe from a command checked above, not a file.
        if (toStdin && r.op === '<') stdin = { kind: 'pipe' };
        continue;
      }
      const dup = !arg.dynamic && /^(\d+-?|-)$/.test(arg.value);
      if (r.op === '<<<') {
        if (toStdin) stdin = arg.dynamic ? { kind: 'dynamic' } : { kind: 'text', text: `${arg.value}\n` };
      } else if (r.op === '<' || r.op === '<>' || (r.op === '<&' && !dup)) {
        this.path(arg, scope, r.op === '<>' ? 'both' : 'read');
        if (toStdin) stdin = { kind: 'file' };
      } else if (!(r.op === '>&' || r.op === '<&') || !dup) {
        this.path(arg, scope, 'write');
      }
    }
    return stdin;
  }

  private path(arg: Arg, scope: Scope, kind: 'read' | 'write' | 'both'): void {
    const target = redirectionTarget(arg, scope.cwd);
    if (target === null) return;
    if (typeof target !== 'string') {
      this.effects.connects.push(target);
      return;
    }
    if (kind !== 'write' && !this.effects.reads.includes(target)) this.effects.reads.push(target);
    if (kind !== 'read' && !this.effects.writes.includes(target)) this.effects.writes.push(target);
  }

  /** Records one argv, then whatever it wraps. */
  private run(
    args: readonly Arg[],
    scope: Scope,
    stdin: Stdin,
    via: string | null,
    depth: number,
    openEnded: boolean,
    elsewhere: boolean,
  ): void {
    if (depth > MAX_WRAPPING)
      throw new ShellUnverifiable(`commands wrapped deeper than ${MAX_WRAPPING} levels`, HINT.simpler);
    const first = args[0] as Arg;
    if (first.dynamic)
      throw new ShellUnverifiable(
        `the program name ${first.value} is only known at run time`,
        HINT.dynamicName,
      );
    if (first.value === '') throw new ShellUnverifiable('an empty program name', HINT.dynamicName);
    if (this.effects.execs.length >= MAX_EXECS)
      throw new ShellUnverifiable(`more than ${MAX_EXECS} commands`, HINT.simpler);
    this.effects.execs.push({
      argv: args.map((arg) => arg.value),
      dynamicArgs: args.flatMap((arg, index) => (arg.dynamic ? [index] : [])),
      cwd: elsewhere ? null : scope.cwd,
      openEnded,
      via,
    });
    const name = programName(first);
    if (name === 'cd' || name === 'pushd' || name === 'popd') {
      scope.cwd = nextDirectory(args, scope.cwd, this.home, via !== null || depth > 0);
      scope.uncertain = true;
    }
    checkBuiltin(args, (source, how) =>
      this.script(source, copy(scope), chain(via, how), depth + 1, { kind: 'inherit' }),
    );
    checkHiddenExec(args);
    for (const inner of unwrap(args, (text) => this.splitWords(text))) {
      const innerVia = chain(via, inner.via);
      if (inner.kind === 'argv') {
        this.run(
          inner.argv,
          scope,
          stdin,
          innerVia,
          depth + 1,
          openEnded || inner.openEnded === true,
          elsewhere || inner.elsewhere === true,
        );
      } else if (inner.kind === 'script') {
        this.script(
          inner.source,
          elsewhere ? { cwd: null, uncertain: false } : copy(scope),
          innerVia,
          depth + 1,
          stdin,
        );
      } else if (stdin.kind === 'text') {
        this.script(stdin.text, copy(scope), innerVia, depth + 1, { kind: 'inherit' });
      } else if (stdin.kind === 'pipe' || stdin.kind === 'dynamic') {
        const from = stdin.kind === 'pipe' ? 'a pipe' : 'a here-document with expansions';
        throw new ShellUnverifiable(`${inner.via} runs a script it reads from ${from}`, HINT.stdinScript);
      }
    }
  }

  /** `env -S STRING`: the string split into words by the shell's rules, plain words only. */
  private splitWords(text: string): Arg[] {
    const tree = parseShell(text, 1);
    const only = tree.items.length === 1 ? tree.items[0]?.pipeline.commands : undefined;
    const command = only?.length === 1 ? only[0] : undefined;
    if (command?.type !== 'simple' || command.redirects.length > 0)
      throw new ShellUnverifiable('env -S with shell syntax', HINT.simpler);
    const words = command.assignments.map((a) => ({
      parts: [{ kind: 'text' as const, value: `${a.name}=`, quoted: true }, ...a.value.parts],
      source: '',
    }));
    return [...words, ...command.words].map((word) => wordArg(word, this.home));
  }
}

/**
 * Lists what a shell command line would run, write, read and connect to.
 * @example analyzeShell('git status; curl evil', { cwd: '/workspace', home: '/home/agent' })
 */
export function analyzeShell(source: string, options: AnalyzeOptions): ShellAnalysis {
  try {
    const analyzer = new Analyzer(options.home);
    analyzer.script(source, { cwd: options.cwd, uncertain: false }, null, 0, { kind: 'inherit' });
    return { ok: true, ...analyzer.effects };
  } catch (error) {
    if (error instanceof ShellUnverifiable) return { ok: false, reason: error.reason, hint: error.hint };
    if (error instanceof RangeError)
      return { ok: false, reason: 'command nested too deeply', hint: HINT.simpler };
    throw error;
  }
}
