import { buildEvent } from './base.ts';
import { decisionEventName } from './catalog.ts';
import { FILE_SYSTEM_ACTIVITY } from './classes.ts';
import { decisionFields } from './decision.ts';
import { type AuditFileType, fileObject } from './objects.ts';
import type { AgentContext, DecisionInput, OcsfEvent } from './types.ts';

// File System Activity (1001): file accesses the harness's own file tools asked the PDP about
// (read_file, write_file). The kernel sandbox enforces the same scope regardless.

/** The file operation an agent asked for; each is one OCSF activity. */
export type FileOperation = 'create' | 'read' | 'write' | 'delete';

const ACTIVITY: Readonly<Record<FileOperation, number>> = { create: 1, read: 2, write: 3, delete: 4 };

export interface FileDecisionInput extends AgentContext, DecisionInput {
  readonly operation: FileOperation;
  /** Absolute path inside the sandbox, e.g. `/workspace/src/index.ts`. */
  readonly path: string;
  /** What the path is, when known. Default: unknown. */
  readonly fileType?: AuditFileType;
}

/**
 * `file.allowed`, `file.denied` or `file.review_requested` for one access; the activity is the
 * operation (Create, Read, Update for write, Delete).
 * @example fileDecisionEvent({ workspaceId, sessionId, decision: 'deny', reasonCode: 'path_denied',
 *   bundle, operation: 'read', path: '/workspace/.env' })
 */
export function fileDecisionEvent(input: FileDecisionInput): OcsfEvent {
  return buildEvent(
    FILE_SYSTEM_ACTIVITY,
    decisionEventName('file', input.decision),
    ACTIVITY[input.operation],
    input,
    {
      file: fileObject(input.path, input.fileType),
      ...decisionFields(input),
    },
  );
}
