import { type BundleAttestationMessage, bundleAttestationMessage } from '../../core/channel/index.ts';
import type { SqlExecutor } from './sql-executor.ts';
import type { ReleaseAttestationRecord } from './store.ts';

// Each workspace's latest `bundle_attest` (migration 0008): one row per workspace, replaced on
// each attestation. A row that no longer parses as the channel protocol's attestation is
// skipped when read (it was stored by another version, or edited by hand): status then shows
// nothing for that workspace rather than something unchecked.

export async function saveReleaseAttestation(
  db: SqlExecutor,
  workspaceId: string,
  attestation: BundleAttestationMessage,
  now: number,
): Promise<void> {
  const checked = bundleAttestationMessage.parse(attestation);
  await db.execute(
    `INSERT INTO release_attestations (workspace_id, channel, attestation, received_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (workspace_id) DO UPDATE SET channel = excluded.channel,
       attestation = excluded.attestation, received_at = excluded.received_at`,
    [workspaceId, checked.channel, JSON.stringify(checked), now],
  );
}

export async function listReleaseAttestations(db: SqlExecutor): Promise<ReleaseAttestationRecord[]> {
  const rows = await db.query(
    'SELECT workspace_id, attestation, received_at FROM release_attestations ORDER BY workspace_id',
  );
  const records: ReleaseAttestationRecord[] = [];
  for (const row of rows) {
    const parsed = bundleAttestationMessage.safeParse(safeJson(String(row['attestation'])));
    if (!parsed.success) continue;
    records.push({
      workspaceId: String(row['workspace_id']),
      receivedAt: new Date(Number(row['received_at'])).toISOString(),
      attestation: parsed.data,
    });
  }
  return records;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
