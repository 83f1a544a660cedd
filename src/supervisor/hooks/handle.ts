import { evaluateEvent, type EvaluateOptions } from './evaluate.ts';
import { claudeCode } from './harness/claude-code.ts';
import { codex } from './harness/codex.ts';
import { gemini } from './harness/gemini.ts';
import {
  type DecideFn,
  type HarnessAdapter,
  type Harness,
  type HookAnswer,
  type HookEvent,
  HookInputError,
  type LocalDecision,
} from './types.ts';

// One hook call from start to answer: parse the harness's JSON, check the call, format the
// verdict for the harness. Input it cannot read is blocked with exit code 2, the one answer
// all three harnesses treat as "block" whatever the event.

export const ADAPTERS: Readonly<Record<Harness, HarnessAdapter>> = {
  'claude-code': claudeCode,
  codex,
  gemini,
};

/** The universal block: exit 2 with the reason on stderr. */
export function blockAnswer(message: string): HookAnswer {
  return { stdout: '', stderr: `${message}\n`, exitCode: 2 };
}

/** One answered hook call, and the decision the hook server made itself, if it did. */
export interface HandledHook {
  readonly answer: HookAnswer;
  readonly local: LocalDecision | null;
}

function handled(answer: HookAnswer, local: Omit<LocalDecision, 'message'>, message: string): HandledHook {
  return { answer, local: { ...local, message } };
}

/**
 * Answers one hook call.
 * @param input the harness's stdin, as text
 * @example const { answer } = await handleHookInput('claude-code', stdin, decide, { home: '/home/agent' })
 */
export async function handleHookInput(
  harness: Harness,
  input: string,
  decide: DecideFn,
  options: EvaluateOptions,
): Promise<HandledHook> {
  const adapter = ADAPTERS[harness];
  const unknown = {
    harness,
    eventName: null,
    toolName: null,
    sessionId: null,
    call: null,
    cwd: null,
    outcome: 'deny' as const,
  };
  let payload: unknown;
  try {
    payload = JSON.parse(input);
  } catch {
    const message = 'Paddock denied this call: the hook input is not valid JSON (PDK_HOOK_INPUT).';
    return handled(blockAnswer(message), { ...unknown, reason: 'input_invalid' }, message);
  }
  let event: HookEvent | undefined;
  try {
    event = adapter.parse(payload, options.home);
    const verdict = await evaluateEvent(event, decide, options);
    const answer = adapter.answer(event, verdict);
    if (!verdict.local) return { answer, local: null };
    const { eventName, toolName, sessionId, call, cwd } = event;
    return handled(
      answer,
      {
        harness,
        eventName,
        toolName,
        sessionId,
        call,
        cwd,
        outcome: verdict.outcome === 'review' ? 'deny' : verdict.outcome,
        reason: verdict.local,
      },
      verdict.message,
    );
  } catch (error) {
    const input = error instanceof HookInputError;
    const message = input
      ? `Paddock denied this call: ${error.message} (PDK_HOOK_INPUT).`
      : 'Paddock denied this call: the hook adapter failed (PDK_INTERNAL). Retry; if it persists, report it.';
    const known = event
      ? {
          eventName: event.eventName,
          toolName: event.toolName,
          sessionId: event.sessionId,
          call: event.call,
          cwd: event.cwd,
        }
      : {};
    return handled(
      blockAnswer(message),
      { ...unknown, ...known, reason: input ? 'input_invalid' : 'hook_failed' },
      message,
    );
  }
}
