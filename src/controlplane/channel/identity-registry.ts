import { existsSync, readFileSync, renameSync } from 'node:fs';
import { generateIdentity, type PublicIdentity, type WorkspaceIdentity } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ChannelIdentityRecord, ChannelIdentityStatus } from '../store/store.ts';
import { type ChannelIdentityStore, memoryChannelIdentityStore } from './memory-identity-store.ts';

// The control plane's record of workspace identities: public keys only, by kid, kept in the
// store every replica shares (a supervisor may reconnect to any of them). A key is `active`
// until a rotation replaces it (`rotated`) or the workspace is revoked (`revoked`); only an
// active key authenticates. A revoked workspace gets no new identity, ever. Nothing is cached:
// every lookup reads the store, so a rotation or revocation on one replica holds on all at once.
// Identities a replica kept before in its own file (channel-identities.json) are imported once,
// on first use, and the file renamed so it is not read again.

const log = createLogger('channel');

export type IdentityStatus = ChannelIdentityStatus;

export interface IdentityRecord extends PublicIdentity {
  readonly status: IdentityStatus;
  readonly issuedAt: number;
}

interface LegacyFile {
  readonly identities: IdentityRecord[];
  readonly revokedWorkspaces: string[];
}

export interface IdentityRegistryOptions {
  /** Where identities live: the control plane's store. Default this process's memory. */
  readonly store?: ChannelIdentityStore;
  /** A registry file from before identities were stored (imported once, then renamed `.imported`). */
  readonly file?: string;
  /** The memory store's clock (the SQL store has its own). */
  readonly now?: () => number;
}

/** Suffix a legacy registry file gets once imported. */
export const IMPORTED_SUFFIX = '.imported';

export class IdentityRegistry {
  readonly #store: ChannelIdentityStore;
  readonly #file: string | undefined;
  #imported: Promise<void> | undefined;

  constructor(options: IdentityRegistryOptions = {}) {
    this.#store = options.store ?? memoryChannelIdentityStore(options.now);
    this.#file = options.file;
  }

  /**
   * A new identity for the workspace (at provisioning and at every start): its earlier keys stop
   * working. Returns the private half for the provider to hand to the supervisor; the registry
   * keeps only the public half. PDK_CHANNEL_UNAUTHENTICATED for a revoked workspace.
   */
  async issue(workspaceId: string): Promise<WorkspaceIdentity> {
    await this.#ready();
    const { identity, publicIdentity } = await generateIdentity(workspaceId);
    await this.#store.activateChannelIdentity(publicIdentity);
    return identity;
  }

  /**
   * Replaces the workspace's active key by `next` (a rotation the supervisor proposed).
   * PDK_CHANNEL_UNAUTHENTICATED for a revoked workspace or a key for another workspace or already used.
   */
  async rotate(workspaceId: string, next: PublicIdentity): Promise<void> {
    await this.#ready();
    if (next.workspaceId !== workspaceId) {
      throw new PaddockError(
        'PDK_CHANNEL_UNAUTHENTICATED',
        `rotation of ${workspaceId} proposed an unusable key`,
      );
    }
    await this.#store.activateChannelIdentity(next);
  }

  /** Retires the workspace's active key (a stopped workspace needs none); the next start issues one. */
  async deactivate(workspaceId: string): Promise<void> {
    await this.#ready();
    await this.#store.deactivateChannelIdentity(workspaceId);
  }

  /** Revokes every key of the workspace, for good. Idempotent. */
  async revoke(workspaceId: string): Promise<void> {
    await this.#ready();
    await this.#store.revokeChannelWorkspace(workspaceId);
  }

  /** Forgets the workspace's keys (decommission); it stays refused if it was revoked. */
  async forget(workspaceId: string): Promise<void> {
    await this.#ready();
    await this.#store.forgetChannelIdentities(workspaceId);
  }

  async lookup(kid: string): Promise<IdentityRecord | undefined> {
    await this.#ready();
    const record = await this.#store.getChannelIdentity(kid);
    return (
      record && {
        workspaceId: record.workspaceId,
        kid: record.kid,
        publicKeyPem: record.publicKeyPem,
        status: record.status,
        issuedAt: record.issuedAt,
      }
    );
  }

  async isRevoked(workspaceId: string): Promise<boolean> {
    await this.#ready();
    return this.#store.isChannelWorkspaceRevoked(workspaceId);
  }

  /** Imports the legacy file once (a failed import is retried by the next call). */
  #ready(): Promise<void> {
    this.#imported ??= this.#importLegacyFile().catch((error: unknown) => {
      this.#imported = undefined;
      throw error;
    });
    return this.#imported;
  }

  async #importLegacyFile(): Promise<void> {
    const file = this.#file;
    if (!file || !existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as LegacyFile;
    const identities: ChannelIdentityRecord[] = saved.identities.map((record) => ({
      kid: record.kid,
      workspaceId: record.workspaceId,
      publicKeyPem: record.publicKeyPem,
      status: record.status,
      issuedAt: record.issuedAt,
      retiredAt: null,
    }));
    const added = await this.#store.importChannelIdentities(identities, saved.revokedWorkspaces ?? []);
    renameSync(file, `${file}${IMPORTED_SUFFIX}`);
    log.info({ file, added }, 'channel identities imported into the store');
  }
}
