import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetadataKind } from '@tufjs/models';
import { parseMetadata, type RefreshResult, type TrustedMetadata } from './tuf-client.ts';

// What the supervisor keeps across restarts, in its own state directory (root-only, 0700, never
// mounted into the sandbox): the TUF metadata it trusts (so a restart cannot be rolled back to
// older metadata) and the last good bundle (so a restart keeps enforcing it without the control
// plane). Files are replaced atomically (write, then rename).
//
//   trusted/root.json, trusted/timestamp.json, trusted/snapshot.json, trusted/targets.json
//   bundle/last-good.json            the bundle's canonical bytes
//   bundle/last-good.meta.json       { sha256, release, channel, blueprint }

export interface LastGoodMeta {
  readonly sha256: string;
  readonly release: number;
  readonly channel: string;
  readonly blueprint: string;
}

export class TrustedStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(join(dir, 'trusted'), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'bundle'), { recursive: true, mode: 0o700 });
  }

  /**
   * The trusted metadata: what a previous run stored, or `initialRoot` (the root the workspace
   * was provisioned with) when there is none yet. A stored file that no longer parses is
   * dropped (the next refresh re-establishes it from the root).
   */
  load(initialRoot: Uint8Array): TrustedMetadata {
    const read = <K extends MetadataKind>(kind: K) => {
      const path = join(this.#dir, 'trusted', `${kind}.json`);
      if (!existsSync(path)) return undefined;
      try {
        return parseMetadata(kind, readFileSync(path));
      } catch {
        return undefined;
      }
    };
    const root = read(MetadataKind.Root) ?? parseMetadata(MetadataKind.Root, initialRoot);
    const timestamp = read(MetadataKind.Timestamp);
    const snapshot = read(MetadataKind.Snapshot);
    const targets = read(MetadataKind.Targets);
    return {
      root,
      ...(timestamp ? { timestamp } : {}),
      ...(snapshot ? { snapshot } : {}),
      ...(targets ? { targets } : {}),
    };
  }

  /** Persists the roles a refresh changed (root first: it anchors the others). */
  save(changed: RefreshResult['changed']): void {
    for (const role of ['root', 'timestamp', 'snapshot', 'targets'] as const) {
      const bytes = changed[role];
      if (bytes) this.#write(join(this.#dir, 'trusted', `${role}.json`), bytes);
    }
  }

  /** The last good bundle, if its bytes still have the hash recorded with them. */
  lastGood(): { bytes: Uint8Array; meta: LastGoodMeta } | undefined {
    const bytesPath = join(this.#dir, 'bundle', 'last-good.json');
    const metaPath = join(this.#dir, 'bundle', 'last-good.meta.json');
    if (!existsSync(bytesPath) || !existsSync(metaPath)) return undefined;
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LastGoodMeta;
      const bytes = readFileSync(bytesPath);
      if (createHash('sha256').update(bytes).digest('hex') !== meta.sha256) return undefined;
      return { bytes: new Uint8Array(bytes), meta };
    } catch {
      return undefined;
    }
  }

  saveLastGood(bytes: Uint8Array, meta: LastGoodMeta): void {
    this.#write(join(this.#dir, 'bundle', 'last-good.json'), bytes);
    this.#write(
      join(this.#dir, 'bundle', 'last-good.meta.json'),
      new TextEncoder().encode(JSON.stringify(meta)),
    );
  }

  #write(path: string, bytes: Uint8Array): void {
    writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
}
