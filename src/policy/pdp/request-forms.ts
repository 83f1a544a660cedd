// The canonical forms of request fields, and their limits: the command line a command pattern
// is matched against (docs/policy.md, "exec"), file paths, MCP arguments as one JSON text.
//
// The command line: argv joined by single spaces, where a word that is empty or holds whitespace, a quote or a
// backslash is single-quoted the POSIX way ('it'\''s'). Quoting keeps the encoding one-to-one:
// ["git", "push origin"] renders as `git 'push origin'`, never as `git push origin`, so an argv
// cannot pass for another one. Other shell metacharacters (`*`, `$`, `;`) stay bare: by the time
// a hook asks, the shell has already parsed them, and a pattern such as "find * -name *.js"
// should read the way the user typed it.

const NEEDS_QUOTES = /[\s'"\\]|^$/u;

/** One argv word as it appears in the command line. */
export function renderWord(word: string): string {
  return NEEDS_QUOTES.test(word) ? `'${word.replaceAll("'", `'\\''`)}'` : word;
}

/** argv as one command line: `renderCommandLine(['git', 'commit', '-m', 'a b'])` → `git commit -m 'a b'`. */
export function renderCommandLine(argv: readonly string[]): string {
  let line = renderWord(argv[0]!);
  for (let index = 1; index < argv.length; index++) line += ` ${renderWord(argv[index]!)}`;
  return line;
}

/** The program's basename: `/usr/bin/git` → `git`; a name without "/" is itself. */
export function programName(program: string): string {
  const slash = program.lastIndexOf('/');
  return slash < 0 ? program : program.slice(slash + 1);
}

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`${typeof value} is not JSON`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const keys = Object.keys(value).sort();
  const entries: string[] = [];
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    entries.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${entries.join(',')}}`;
}

/** Size limits of one request (docs/policy.md). Over a limit: deny `request_too_large`. */
export const REQUEST_LIMITS = {
  /** Most argv words. */
  argvWords: 4096,
  /** Longest command line (UTF-16 units), 64 KiB. */
  commandChars: 65536,
  /** Longest path, as PATH_MAX. */
  pathChars: 4096,
  /** Longest canonical JSON of MCP arguments, 64 KiB. */
  argumentsChars: 65536,
  /** Longest host, port and MCP name fields. */
  nameChars: 512,
} as const;

/** Why a file path is not absolute and canonical, or undefined. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'the path is not absolute';
  if (path.includes('\0')) return 'the path contains NUL';
  if (path.length > 1 && path.endsWith('/')) return 'the path ends with "/"';
  if (path.includes('//')) return 'the path contains "//"';
  if (path.split('/').some((part) => part === '.' || part === '..'))
    return 'the path contains a "." or ".." segment';
  return undefined;
}
