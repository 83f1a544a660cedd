import { existsSync, readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { generateIdentity, type PublicIdentity, type WorkspaceIdentity } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';

// The control plane's record of workspace identities: public keys only, by kid. A key is
// `active` until a rotation replaces it (`rotated`) or the workspace is revoked (`revoked`);
// only an active key authenticates. A revoked workspace gets no new identity, ever.

export type IdentityStatus = 'active' | 'rotated' | 'revoked';

export interface IdentityRecord extends PublicIdentity {
  readonly status: IdentityStatus;
  readonly issuedAt: number;
}

interface RegistryFile {
  readonly identities: IdentityRecord[];
  readonly revokedWorkspaces: string[];
}

export interface IdentityRegistryOptions {
  /** JSON file the registry persists to (mode 0600); default memory only. */
  readonly file?: string;
  readonly now?: () => number;
}

export class IdentityRegistry {
  readonly #byKid = new Map<string, IdentityRecord>();
  readonly #revoked = new Set<string>();
  readonly #file: string | undefined;
  readonly #now: () => number;
  #saving: Promise<void> = Promise.resolve();

  constructor(options: IdentityRegistryOptions = {}) {
    this.#file = options.file;
    this.#now = options.now ?? Date.now;
    if (this.#file && existsSync(this.#file)) {
      const saved = JSON.parse(readFileSync(this.#file, 'utf8')) as RegistryFile;
      for (const record of saved.identities) this.#byKid.set(record.kid, record);
      for (const id of saved.revokedWorkspaces) this.#revoked.add(id);
    }
  }

  /**
   * A new identity for the workspace (at provisioning and at every start): its earlier keys stop
   * working. Returns the private half for the provider to hand to the supervisor; the registry
   * keeps only the public half. PDK_CHANNEL_UNAUTHENTICATED for a revoked workspace.
   */
  async issue(workspaceId: string): Promise<WorkspaceIdentity> {
    this.#refuseRevoked(workspaceId);
    const { identity, publicIdentity } = await generateIdentity(workspaceId);
    this.#retire(workspaceId, 'rotated');
    this.#byKid.set(publicIdentity.kid, { ...publicIdentity, status: 'active', issuedAt: this.#now() });
    await this.#save();
    return identity;
  }

  /** Replaces the workspace's active key by `next` (a rotation the supervisor proposed). */
  async rotate(workspaceId: string, next: PublicIdentity): Promise<void> {
    this.#refuseRevoked(workspaceId);
    if (next.workspaceId !== workspaceId || this.#byKid.has(next.kid))
      throw new PaddockError(
        'PDK_CHANNEL_UNAUTHENTICATED',
        `rotation of ${workspaceId} proposed an unusable key`,
      );
    this.#retire(workspaceId, 'rotated');
    this.#byKid.set(next.kid, { ...next, status: 'active', issuedAt: this.#now() });
    await this.#save();
  }

  /** Retires the workspace's active key (a stopped workspace needs none); the next start issues one. */
  async deactivate(workspaceId: string): Promise<void> {
    this.#retire(workspaceId, 'rotated');
    await this.#save();
  }

  /** Revokes every key of the workspace, for good. Idempotent. */
  async revoke(workspaceId: string): Promise<void> {
    this.#revoked.add(workspaceId);
    this.#retire(workspaceId, 'revoked');
    await this.#save();
  }

  /** Forgets the workspace's keys (decommission); it stays refused if it was revoked. */
  async forget(workspaceId: string): Promise<void> {
    for (const [kid, record] of this.#byKid) if (record.workspaceId === workspaceId) this.#byKid.delete(kid);
    await this.#save();
  }

  lookup(kid: string): IdentityRecord | undefined {
    return this.#byKid.get(kid);
  }

  isRevoked(workspaceId: string): boolean {
    return this.#revoked.has(workspaceId);
  }

  #refuseRevoked(workspaceId: string): void {
    if (this.#revoked.has(workspaceId))
      throw new PaddockError(
        'PDK_CHANNEL_UNAUTHENTICATED',
        `workspace ${workspaceId} was revoked and gets no channel identity`,
      );
  }

  #retire(workspaceId: string, status: 'rotated' | 'revoked'): void {
    for (const [kid, record] of this.#byKid) {
      if (record.workspaceId === workspaceId && record.status !== 'revoked' && record.status !== status)
        this.#byKid.set(kid, { ...record, status });
    }
  }

  /** Saves are serialised; each writes the whole (small) registry to a temporary file and renames it. */
  #save(): Promise<void> {
    const file = this.#file;
    if (!file) return Promise.resolve();
    const content: RegistryFile = {
      identities: [...this.#byKid.values()],
      revokedWorkspaces: [...this.#revoked],
    };
    this.#saving = this.#saving.then(async () => {
      const temporary = `${file}.tmp`;
      await writeFile(temporary, `${JSON.stringify(content)}\n`, { mode: 0o600 });
      await rename(temporary, file);
    });
    return this.#saving;
  }
}
