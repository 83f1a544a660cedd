import {
  type BundleAttestationMessage,
  type ControlPlaneMessage,
  RELEASE_CHUNK_BYTES,
  type SupervisorMessage,
} from '../../core/channel/index.ts';
import { createLogger } from '../../core/index.ts';
import type { ReleaseAttestationRecord, Store } from '../store/store.ts';
import type { ReleaseRepository } from './release-repository.ts';

// The control plane's side of releases on the workspace channel: it serves the channel
// repository's files to supervisors (they verify everything; this only reads files) and keeps
// each workspace's latest attestation, which `paddock policy status` compares with the
// channel's current release to flag drift.
//
// Attestations are rows of the store (release_attestations, one per workspace, replaced on each
// apply), so `paddock up` and every replica of `paddock serve` keep them the same way and
// status sees every workspace whichever replica its supervisor is connected to. The workspace
// id is always the one the channel connection authenticated: the message names none.
//
// Public API:
//   createReleaseEndpoint({ repository, attestations }): ReleaseEndpoint
//   endpoint.serve(message): ControlPlaneMessage[]           answers to one release_fetch
//   endpoint.attest(workspaceId, attestation): Promise<void>  records a bundle_attest (never rejects: logged)
//   endpoint.workspaces(): Promise<WorkspacePolicyStatus[]>   each workspace's applied bundle + drift
//   policyStatuses(repository, records): WorkspacePolicyStatus[]  the same, over records read elsewhere

const log = createLogger('releases');

export type WorkspaceAttestation = ReleaseAttestationRecord;

/** Where attestations are kept: the control plane's store. */
export type AttestationStore = Pick<Store, 'saveReleaseAttestation' | 'releaseAttestations'>;

/** One workspace's applied bundle against its channel's current release. */
export interface WorkspacePolicyStatus extends WorkspaceAttestation {
  /** The channel's current target for the workspace's blueprint, when there is one. */
  readonly current: { readonly release: number; readonly sha256: string; readonly bundleId: string } | null;
  /**
   * `in-sync`: the applied bundle is the channel's current one; `behind`: an older release is
   * applied; `deny-all`: nothing valid is applied; `unknown`: the channel or bundle is unknown.
   */
  readonly drift: 'in-sync' | 'behind' | 'deny-all' | 'unknown';
}

export interface ReleaseEndpoint {
  serve(message: Extract<SupervisorMessage, { t: 'release_fetch' }>): ControlPlaneMessage[];
  attest(workspaceId: string, attestation: BundleAttestationMessage): Promise<void>;
  workspaces(): Promise<WorkspacePolicyStatus[]>;
}

export function createReleaseEndpoint(options: {
  readonly repository: ReleaseRepository;
  readonly attestations: AttestationStore;
}): ReleaseEndpoint {
  return {
    serve(message) {
      const bytes = options.repository.readFile(message.channel, message.path);
      if (!bytes) return [{ t: 'release_missing', requestId: message.requestId }];
      // Never more than the supervisor takes: one byte over tells it the file is too large.
      const sent = bytes.subarray(0, Math.min(bytes.byteLength, message.maxBytes + 1));
      const answers: ControlPlaneMessage[] = [];
      for (let at = 0; at < sent.byteLength || at === 0; at += RELEASE_CHUNK_BYTES) {
        const end = Math.min(at + RELEASE_CHUNK_BYTES, sent.byteLength);
        answers.push({
          t: 'release_chunk',
          requestId: message.requestId,
          data: Buffer.from(sent.subarray(at, end)).toString('base64'),
          last: end >= sent.byteLength,
        });
        if (end >= sent.byteLength) break;
      }
      return answers;
    },
    async attest(workspaceId, attestation) {
      const fields = {
        workspace: workspaceId,
        state: attestation.state,
        bundle: attestation.bundle?.id,
        release: attestation.release,
        error: attestation.error?.code,
      };
      try {
        await options.attestations.saveReleaseAttestation(workspaceId, attestation);
        log.info(fields, 'bundle attested');
      } catch (error) {
        // The supervisor attests again on its next apply or connect; status shows the last stored.
        log.warn({ ...fields, error: (error as Error).message }, 'bundle attestation not stored');
      }
    },
    async workspaces() {
      return policyStatuses(options.repository, await options.attestations.releaseAttestations());
    },
  };
}

/** Each attested workspace's applied bundle against its channel's current release in `repository`. */
export function policyStatuses(
  repository: Pick<ReleaseRepository, 'status'>,
  records: readonly WorkspaceAttestation[],
): WorkspacePolicyStatus[] {
  return records.map((record) => withDrift(record, repository));
}

function withDrift(
  record: WorkspaceAttestation,
  repository: Pick<ReleaseRepository, 'status'>,
): WorkspacePolicyStatus {
  const { attestation } = record;
  let channel: ReturnType<ReleaseRepository['status']>;
  try {
    channel = repository.status(attestation.channel);
  } catch {
    return { ...record, current: null, drift: 'unknown' };
  }
  const target = channel.targets.find((entry) => entry.name === attestation.blueprint);
  const current = target
    ? { release: channel.targetsVersion, sha256: target.sha256, bundleId: target.bundleId }
    : null;
  if (attestation.state === 'deny-all') return { ...record, current, drift: 'deny-all' };
  if (!current) return { ...record, current, drift: 'unknown' };
  return { ...record, current, drift: attestation.bundle?.hash === current.sha256 ? 'in-sync' : 'behind' };
}
