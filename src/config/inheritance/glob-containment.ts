// Containment and overlap of the glob patterns blueprints use: argv command
// patterns ("git *"), URL path globs ("/repos/*/pulls/**") and their segments.
//
// Every answer errs towards "widens": `contains` may say false for a pattern
// that is in fact covered (the child is then reported and must be rewritten),
// but never true for one that is not. `mayOverlap` errs the other way (true
// when unsure), because callers use it to decide whether a review requirement
// could still apply.

/**
 * Whether every string `inner` matches is also matched by `outer`, where `*`
 * matches any run of characters (possibly empty) and everything else is literal.
 * An inner `*` can only be absorbed by an outer `*`, which makes the answer
 * sound: true means contained.
 *
 * @example wildcardContains('git *', 'git status') === true
 * @example wildcardContains('git status', 'git *') === false
 */
export function wildcardContains(outer: string, inner: string): boolean {
  const m = outer.length;
  const n = inner.length;
  // reach[j]: outer[0..i) can absorb inner[0..j). Rolling over i keeps memory O(n).
  let reach = new Array<boolean>(n + 1).fill(false);
  reach[0] = true;
  for (let i = 0; i < m; i++) {
    const next = new Array<boolean>(n + 1).fill(false);
    if (outer[i] === '*') {
      // The outer star absorbs inner[j..k) for any k >= j, stars included.
      let seen = false;
      for (let j = 0; j <= n; j++) {
        seen = seen || reach[j] === true;
        next[j] = seen;
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (reach[j] && inner[j] !== '*' && inner[j] === outer[i]) next[j + 1] = true;
      }
    }
    reach = next;
  }
  return reach[n] === true;
}

/** Whether some string could match both wildcard patterns (`*` = any run). True when unsure. */
export function wildcardsMayOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return wildcardContains(b, a);
  if (!b.includes('*')) return wildcardContains(a, b);
  // Both have stars: the literal text before the first star and after the last
  // must be compatible; the middles can always be stretched (over-approximation).
  const prefixA = a.slice(0, a.indexOf('*'));
  const prefixB = b.slice(0, b.indexOf('*'));
  const suffixA = a.slice(a.lastIndexOf('*') + 1);
  const suffixB = b.slice(b.lastIndexOf('*') + 1);
  const prefixesAgree = prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA);
  const suffixesAgree = suffixA.endsWith(suffixB) || suffixB.endsWith(suffixA);
  return prefixesAgree && suffixesAgree;
}

/** Command patterns compare as words: runs of whitespace are one separator. */
export function normalizeCommandPattern(pattern: string): string {
  return pattern.trim().split(/\s+/u).join(' ');
}

/** Whether every command the `inner` argv pattern matches is matched by `outer`. */
export function commandPatternContains(outer: string, inner: string): boolean {
  return wildcardContains(normalizeCommandPattern(outer), normalizeCommandPattern(inner));
}

const ANY_SEGMENTS = '**';

/**
 * Splits a URL path glob into segments. A `**` that shares its segment with
 * other text is not a documented form: for the child side (`widen`) it becomes
 * a whole `**` (matching more), for the parent side a `*` (matching less), so
 * the comparison stays sound whatever a matcher makes of it.
 */
function pathSegments(glob: string, side: 'child' | 'parent'): string[] {
  return glob.split('/').map((segment) => {
    if (segment === ANY_SEGMENTS || !segment.includes(ANY_SEGMENTS)) return segment;
    return side === 'child' ? ANY_SEGMENTS : segment.replace(/\*+/gu, '*');
  });
}

/**
 * Whether every URL path the `inner` glob matches is matched by `outer`.
 * `*` matches within one segment, `**` (a whole segment) matches zero or more segments.
 *
 * @example pathGlobContains('/repos/**', '/repos/*\/pulls') === true
 * @example pathGlobContains('/repos/*', '/repos/**') === false
 */
export function pathGlobContains(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const p = pathSegments(outer, 'parent');
  const c = pathSegments(inner, 'child');
  // covered[i][j]: child segments from i are contained in parent segments from j.
  const memo = new Map<number, boolean>();
  const covered = (i: number, j: number): boolean => {
    const key = i * (p.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (j === p.length) result = i === c.length;
    else if (p[j] === ANY_SEGMENTS) result = covered(i, j + 1) || (i < c.length && covered(i + 1, j));
    else if (i === c.length || c[i] === ANY_SEGMENTS) result = false;
    else result = wildcardContains(p[j]!, c[i]!) && covered(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return covered(0, 0);
}

/** Whether some URL path could match both globs. True when unsure. */
export function pathGlobsMayOverlap(a: string, b: string): boolean {
  // Both sides widened: an over-approximation of each keeps "no overlap" answers true.
  const x = pathSegments(a, 'child');
  const y = pathSegments(b, 'child');
  const memo = new Map<number, boolean>();
  const overlap = (i: number, j: number): boolean => {
    const key = i * (y.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === x.length && j === y.length) result = true;
    else if (i < x.length && x[i] === ANY_SEGMENTS)
      result = overlap(i + 1, j) || (j < y.length && overlap(i, j + 1));
    else if (j < y.length && y[j] === ANY_SEGMENTS)
      result = overlap(i, j + 1) || (i < x.length && overlap(i + 1, j));
    else if (i === x.length || j === y.length) result = false;
    else result = wildcardsMayOverlap(x[i]!, y[j]!) && overlap(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return overlap(0, 0);
}
