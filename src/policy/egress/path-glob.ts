// URL path globs and the path checks that keep them meaningful.
//
// A glob only means something if the server reads the path the way the glob does. Servers
// and frameworks disagree on dot segments, encoded slashes, backslashes and `;` parameters,
// so a path using any of them is refused (`path_ambiguous`) instead of normalized: the
// gateway never forwards a path it matched in a different form.

/** A compiled path glob. */
export interface PathGlob {
  readonly source: string;
  readonly regex: RegExp;
}

/**
 * Compiles a glob: `*` matches any run of characters within one segment (possibly empty),
 * a `**` segment matches zero or more whole segments. Everything else is literal.
 *
 * @example compilePathGlob('/repos/**').regex.test('/repos/a/b') // true
 * @example compilePathGlob('/repos/*').regex.test('/repos/a/b')  // false
 */
export function compilePathGlob(source: string): PathGlob {
  if (!source.startsWith('/')) throw new TypeError(`path glob "${source}" must start with "/"`);
  const segments = source.slice(1).split('/');
  let pattern = '^';
  for (const segment of segments) {
    // A "**" segment is zero or more segments, so "/repos/**" also matches "/repos".
    pattern += segment === '**' ? '(?:/[^/]*)*' : `/${segment.split('*').map(escapeRegex).join('[^/]*')}`;
  }
  return { source, regex: new RegExp(`${pattern}$`) };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a request path (without query) matches the glob. */
export function pathMatches(glob: PathGlob, path: string): boolean {
  return glob.regex.test(path);
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}(?:;.*)?$/i;

/**
 * Why a request path is ambiguous, or undefined when it is not. The path is the part of
 * the origin-form request-target before `?`.
 */
export function ambiguousPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'the path does not start with "/"';
  if (path.includes('\\')) return 'the path contains a backslash';
  if (/%(2f|5c)/i.test(path)) return 'the path contains an encoded "/" or "\\"';
  if (/%(00|25)/i.test(path)) return 'the path contains an encoded NUL or "%"';
  if (path.includes('//')) return 'the path contains an empty segment ("//")';
  for (const segment of path.split('/')) {
    if (DOT_SEGMENT.test(segment)) return 'the path contains a "." or ".." segment';
    if (segment.includes(';')) return 'the path contains a ";" parameter';
  }
  if (/%(?![0-9a-f]{2})/i.test(path)) return 'the path contains a malformed %-escape';
  return undefined;
}
