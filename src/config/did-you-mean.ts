// "Did you mean ...?" suggestions for misspelt field names, kinds and references.

/**
 * Edit distance between `a` and `b` counting insertions, deletions, substitutions
 * and swaps of two adjacent characters (optimal string alignment, a restricted
 * Damerau-Levenshtein distance). `ownr` -> `owner` is 1, `servcies` -> `services` is 1.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** Inputs longer than this get no suggestion: nothing real is that long, and the distance is quadratic. */
const MAX_COMPARED_LENGTH = 100;

/**
 * The candidate closest to `input`, or undefined when none is close enough to be
 * a likely typo. Case is ignored (`reviewcadence` suggests `reviewCadence`), and
 * the allowed distance grows with length: 1 edit up to 5 characters, 2 up to 11, then 3.
 *
 * @example didYouMean('ownr', ['name', 'owner']) // 'owner'
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  if (input.length > MAX_COMPARED_LENGTH) return undefined;
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const distance = editDistance(needle, candidate.toLowerCase());
    const allowed = candidate.length <= 5 ? 1 : candidate.length <= 11 ? 2 : 3;
    if (distance <= allowed && distance < candidate.length && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "x"?` when a close candidate exists, else an empty string. */
export function suggestion(input: string, candidates: Iterable<string>): string {
  const match = didYouMean(input, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}
