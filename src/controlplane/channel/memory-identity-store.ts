import { PaddockError } from '../../core/errors.ts';
import type { ChannelIdentityRecord, Store } from '../store/store.ts';

// The channel-identity part of the Store, kept in this process's memory: for a channel server
// run without a store (a one-off `paddock apply` socket, tests of the channel itself). It keeps
// the same rules as the SQL tables (one active key per workspace, a revoked workspace refused
// for good, a kid used once).

export type ChannelIdentityStore = Pick<
  Store,
  | 'activateChannelIdentity'
  | 'deactivateChannelIdentity'
  | 'revokeChannelWorkspace'
  | 'forgetChannelIdentities'
  | 'getChannelIdentity'
  | 'listChannelIdentities'
  | 'isChannelWorkspaceRevoked'
  | 'importChannelIdentities'
>;

export function memoryChannelIdentityStore(now: () => number = Date.now): ChannelIdentityStore {
  const byKid = new Map<string, ChannelIdentityRecord>();
  const revoked = new Set<string>();
  const retire = (workspaceId: string, status: 'rotated' | 'revoked') => {
    for (const [kid, record] of byKid)
      if (record.workspaceId === workspaceId && record.status !== 'revoked' && record.status !== status)
        byKid.set(kid, { ...record, status, retiredAt: record.retiredAt ?? now() });
  };
  return {
    async activateChannelIdentity(identity) {
      if (revoked.has(identity.workspaceId))
        throw new PaddockError(
          'PDK_CHANNEL_UNAUTHENTICATED',
          `workspace ${identity.workspaceId} was revoked and gets no channel identity`,
        );
      if (byKid.has(identity.kid))
        throw new PaddockError(
          'PDK_CHANNEL_UNAUTHENTICATED',
          `key ${identity.kid} for ${identity.workspaceId} is already known: a key is used once`,
        );
      retire(identity.workspaceId, 'rotated');
      const record: ChannelIdentityRecord = {
        kid: identity.kid,
        workspaceId: identity.workspaceId,
        publicKeyPem: identity.publicKeyPem,
        status: 'active',
        issuedAt: now(),
        retiredAt: null,
      };
      byKid.set(record.kid, record);
      return record;
    },
    async deactivateChannelIdentity(workspaceId) {
      retire(workspaceId, 'rotated');
    },
    async revokeChannelWorkspace(workspaceId) {
      revoked.add(workspaceId);
      retire(workspaceId, 'revoked');
    },
    async forgetChannelIdentities(workspaceId) {
      for (const [kid, record] of byKid) if (record.workspaceId === workspaceId) byKid.delete(kid);
    },
    async getChannelIdentity(kid) {
      return byKid.get(kid);
    },
    async listChannelIdentities(workspaceId) {
      return [...byKid.values()]
        .filter((record) => record.workspaceId === workspaceId)
        .sort((a, b) => a.issuedAt - b.issuedAt || a.kid.localeCompare(b.kid));
    },
    async isChannelWorkspaceRevoked(workspaceId) {
      return revoked.has(workspaceId);
    },
    async importChannelIdentities(identities, revokedWorkspaces) {
      for (const workspaceId of revokedWorkspaces) {
        revoked.add(workspaceId);
        retire(workspaceId, 'revoked');
      }
      let added = 0;
      for (const identity of identities) {
        if (byKid.has(identity.kid)) continue;
        const hasActive = [...byKid.values()].some(
          (record) => record.workspaceId === identity.workspaceId && record.status === 'active',
        );
        const status = revoked.has(identity.workspaceId)
          ? 'revoked'
          : identity.status === 'active' && hasActive
            ? 'rotated'
            : identity.status;
        byKid.set(identity.kid, {
          ...identity,
          status,
          retiredAt: status === 'active' ? null : (identity.retiredAt ?? now()),
        });
        added += 1;
      }
      return added;
    },
  };
}
