import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ReleaseAnchor } from '../../src/providers/release-anchor.ts';

// A real TUF root.json of a `canary` channel, as the release repository writes it (public keys
// and thresholds only), for the VM providers' tests: they must carry it into the guest byte for byte.

export const RELEASE_ROOT_FILE = fileURLToPath(
  new URL('./fixtures/releases/canary.root.json', import.meta.url),
);

export function fixtureAnchor(): ReleaseAnchor {
  return { channel: 'canary', root: readFileSync(RELEASE_ROOT_FILE) };
}
