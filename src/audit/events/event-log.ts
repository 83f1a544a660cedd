import { hostname } from 'node:os';
import { basename } from 'node:path';
import { buildEvent } from './base.ts';
import { EVENT_LOG_ACTIVITY } from './classes.ts';
import { paddockActor } from './objects.ts';
import type { AuditContext, OcsfEvent } from './types.ts';

// Event Log Activity (1008): Paddock's own audit files changing, e.g. a sink rotating its
// JSON-lines file. The actor is the Paddock component that did it; the device is this host.

export interface AuditRotatedInput extends AuditContext {
  /** The sink that rotated, e.g. `local-file`. */
  readonly sinkName: string;
  /** The live file's path (where new events now go). */
  readonly path: string;
  /** Where the full file was renamed to. */
  readonly rotatedTo: string;
  /** Size of the rotated file, bytes. */
  readonly sizeBytes: number;
  /** Why it rotated: `size` or `daily`. */
  readonly reason: 'size' | 'daily';
  /** Rotated files deleted to keep the configured number. */
  readonly deleted?: readonly string[];
}

/**
 * `audit.rotated`: a JSON-lines sink renamed its full file aside and began a new one.
 * @example auditRotatedEvent({ sinkName: 'local-file', path: '/var/lib/paddock/audit/ocsf.jsonl',
 *   rotatedTo: '/var/lib/paddock/audit/ocsf.jsonl.20261125T211200Z', sizeBytes: 104857600, reason: 'size' })
 */
export function auditRotatedEvent(input: AuditRotatedInput): OcsfEvent {
  return buildEvent(EVENT_LOG_ACTIVITY, 'audit.rotated', 5, input, {
    actor: paddockActor('audit sink'),
    device: { hostname: hostname(), type_id: 1, type: 'Server' },
    message:
      input.message ?? `audit sink ${input.sinkName} rotated ${basename(input.path)} (${input.reason})`,
    log_name: input.sinkName,
    log_provider: 'Paddock',
    log_type_id: 2,
    log_type: 'Application',
    file: {
      name: basename(input.rotatedTo),
      path: input.rotatedTo,
      type_id: 1,
      type: 'Regular File',
      size: input.sizeBytes,
    },
    status_id: 1,
    status: 'Success',
    status_code: input.reason,
    unmapped: {
      paddock: {
        live_path: input.path,
        deleted: input.deleted && input.deleted.length > 0 ? input.deleted : undefined,
      },
    },
  });
}
