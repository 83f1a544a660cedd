// The files a Codex apply_patch body touches. The format (codex-rs/apply-patch) frames each
// file with a header line; every one of them is written (a deleted file is a write too).

const HEADER = /^\*\*\* (Add File|Delete File|Update File|Move to): (.+)$/;

/**
 * Paths named by the patch's file headers, in order, without duplicates.
 * @example parsePatchPaths('*** Begin Patch\n*** Update File: a.ts\n…') // ['a.ts']
 */
export function parsePatchPaths(patch: string): string[] {
  const paths: string[] = [];
  for (const line of patch.split(/\r?\n/)) {
    const match = HEADER.exec(line);
    const path = match?.[2]?.trim();
    if (path && !paths.includes(path)) paths.push(path);
  }
  return paths;
}
