import { newId } from '../../core/ids.ts';
import { buildEvent } from './base.ts';
import { decisionEventName } from './catalog.ts';
import { PROCESS_ACTIVITY } from './classes.ts';
import { decisionFields } from './decision.ts';
import { processObject } from './objects.ts';
import type { AgentContext, DecisionInput, OcsfEvent } from './types.ts';

// Process Activity (1007): commands an agent asked to run in its sandbox, and their exit.

interface CommandInput extends AgentContext {
  /** The command as executed (argv[0] is the program). Redact per the blueprint before calling. */
  readonly argv: readonly string[];
  /** The process id inside the sandbox, once launched. */
  readonly pid?: number;
  /**
   * Paddock's id for this command, joining `exec.*` and `process.exited`. Default: a fresh UUID
   * (a refused command never gets a pid, and OCSF needs pid or uid).
   */
  readonly processUid?: string;
  /** Working directory inside the sandbox. */
  readonly cwd?: string;
}

export interface ExecDecisionInput extends CommandInput, DecisionInput {}

export interface ProcessExitedInput extends CommandInput {
  readonly exitCode: number;
  /** How long the process ran, milliseconds. */
  readonly durationMs?: number;
}

/**
 * `exec.allowed`, `exec.denied` or `exec.review_requested` (activity Launch) for one command.
 * @example execDecisionEvent({ workspaceId, sessionId, decision: 'deny', reasonCode: 'command_denied',
 *   bundle, ruleId: 'deny-git-push', argv: ['git', 'push', 'origin', 'main'] })
 */
export function execDecisionEvent(input: ExecDecisionInput): OcsfEvent {
  return buildEvent(PROCESS_ACTIVITY, decisionEventName('exec', input.decision), 1, input, {
    process: {
      ...processObject(input.argv, { pid: input.pid, uid: input.processUid ?? newId() }),
      working_directory: input.cwd,
    },
    launch_type_id: 1,
    launch_type: 'Spawn',
    ...decisionFields(input),
  });
}

/** `process.exited` (activity Terminate): a sandboxed command ended with `exitCode`. */
export function processExitedEvent(input: ProcessExitedInput): OcsfEvent {
  return buildEvent(PROCESS_ACTIVITY, 'process.exited', 2, input, {
    process: {
      ...processObject(input.argv, { pid: input.pid, uid: input.processUid ?? newId() }),
      working_directory: input.cwd,
    },
    exit_code: input.exitCode,
    duration: input.durationMs,
    status_id: 1,
    status: 'Success',
  });
}
