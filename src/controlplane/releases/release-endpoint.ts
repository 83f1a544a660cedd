import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BundleAttestationMessage,
  bundleAttestationMessage,
  type ControlPlaneMessage,
  RELEASE_CHUNK_BYTES,
  type SupervisorMessage,
} from '../../core/channel/index.ts';
import { createLogger } from '../../core/index.ts';
import type { ReleaseRepository } from './release-repository.ts';

// The control plane's side of releases on the workspace channel: it serves the channel
// repository's files to supervisors (they verify everything; this only reads files) and keeps
// each workspace's latest attestation, which `paddock policy status` compares with the
// channel's current release to flag drift.
//
// Attestations are files (DATA_DIR/releases/attestations/WORKSPACE.json, atomically replaced):
// one small record per workspace, written on each apply, read by status.
//
// Public API:
//   createReleaseEndpoint({ repository, dir }): ReleaseEndpoint
//   endpoint.serve(message): ControlPlaneMessage[]      answers to one release_fetch
//   endpoint.attest(workspaceId, attestation): void     records a bundle_attest
//   endpoint.workspaces(): WorkspacePolicyStatus[]       each workspace's applied bundle + drift

const log = createLogger('releases');

export interface WorkspaceAttestation {
  readonly workspaceId: string;
  /** When the control plane received it, ISO 8601. */
  readonly receivedAt: string;
  readonly attestation: BundleAttestationMessage;
}

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
  attest(workspaceId: string, attestation: BundleAttestationMessage): void;
  workspaces(): WorkspacePolicyStatus[];
}

export function createReleaseEndpoint(options: {
  readonly repository: ReleaseRepository;
  /** Where attestations are kept, normally DATA_DIR/releases/attestations. */
  readonly dir: string;
  readonly now?: () => Date;
}): ReleaseEndpoint {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const now = options.now ?? (() => new Date());
  const fileOf = (workspaceId: string) => join(options.dir, `${encodeURIComponent(workspaceId)}.json`);
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
    attest(workspaceId, attestation) {
      const record: WorkspaceAttestation = { workspaceId, receivedAt: now().toISOString(), attestation };
      const path = fileOf(workspaceId);
      writeFileSync(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      log.info(
        {
          workspace: workspaceId,
          state: attestation.state,
          bundle: attestation.bundle?.id,
          release: attestation.release,
          error: attestation.error?.code,
        },
        'bundle attested',
      );
    },
    workspaces() {
      const statuses: WorkspacePolicyStatus[] = [];
      for (const file of readdirSync(options.dir)
        .filter((name) => name.endsWith('.json'))
        .sort()) {
        let record: WorkspaceAttestation;
        try {
          const raw = JSON.parse(readFileSync(join(options.dir, file), 'utf8')) as WorkspaceAttestation;
          record = { ...raw, attestation: bundleAttestationMessage.parse(raw.attestation) };
        } catch {
          continue;
        }
        statuses.push(withDrift(record, options.repository));
      }
      return statuses;
    },
  };
}

function withDrift(record: WorkspaceAttestation, repository: ReleaseRepository): WorkspacePolicyStatus {
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
