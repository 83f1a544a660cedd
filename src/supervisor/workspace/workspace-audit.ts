import { dirname, join } from 'node:path';
import { AuditSpool, type OcsfEvent } from '../../audit/index.ts';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { supervisorEventRedactor } from '../audit-redaction.ts';
import type { SecretStore } from '../egress/index.ts';
import { loadWorkspaceLogging } from './workspace-sandbox.ts';

// The workspace supervisor's one audit exit: the workspace's hash-chained spool (source: the
// workspace id), shipped over the channel to the control plane's central store. Redaction per
// the blueprint's `logging` happens before append: the hash covers the event as spooled, and
// nothing downstream may see more.

export interface WorkspaceAudit {
  readonly spool: AuditSpool;
  /** Redacts and appends one event; resolves once it is durable. */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
}

/**
 * Opens `audit-spool/` beside `config.auditLog`. PDK_AUDIT_WRITE while another process holds it.
 * With the workspace's secret store, the values of the blueprint's credentials are scrubbed
 * from every event too.
 */
export async function openWorkspaceAudit(
  config: WorkspaceSupervisorConfig,
  secrets?: SecretStore,
): Promise<WorkspaceAudit> {
  const spool = await AuditSpool.open(join(dirname(config.auditLog), 'audit-spool'), {
    source: config.workspaceId,
  });
  const { logging, credentialNames } = await loadWorkspaceLogging(config);
  const redact = await supervisorEventRedactor({
    ...(logging ? { logging } : {}),
    ...(secrets ? { secrets } : {}),
    credentialNames,
  });
  return {
    spool,
    audit: (event) => spool.append(redact(event) as unknown as Record<string, unknown>),
  };
}
