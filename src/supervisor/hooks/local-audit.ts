import { isAbsolute, resolve } from 'node:path/posix';
import {
  type AgentContext,
  type BundleRef,
  execDecisionEvent,
  fileDecisionEvent,
  harnessToolEvent,
  httpDecisionEvent,
  mcpDecisionEvent,
  type OcsfEvent,
} from '../../audit/index.ts';
import type { LocalDecision } from './types.ts';

// The audit event of a decision the hook server made without the PDP (the PDP audits its own):
// the class follows what the call touched, as for PDP decisions — a shell command is Process
// Activity, a read or write File System Activity, a fetch HTTP Activity, an MCP tool API
// Activity — and a call that names none of these (a todo list, a search, input that could not
// be read) is `tool.allowed` / `tool.denied`. `ask` (an unverifiable command put to the user)
// is recorded as a command held for a person: exec.review_requested.

/** Who and which policy, supplied by the supervisor. */
export interface LocalAuditContext extends Omit<AgentContext, 'time' | 'uid' | 'message' | 'harness'> {
  readonly bundle: BundleRef;
}

/** Applies the blueprint's redaction to recorded text (argv words, URLs). */
export type LocalRedact = (text: string) => string;

function validUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    return new URL(text).href;
  } catch {
    return undefined;
  }
}

/** The event for one local decision. */
export function localDecisionEvent(
  decision: LocalDecision,
  context: LocalAuditContext,
  redact: LocalRedact = (text) => text,
): OcsfEvent {
  const base = {
    ...context,
    ...(decision.harness ? { harness: decision.harness } : {}),
    decision: decision.outcome === 'ask' ? ('review' as const) : decision.outcome,
    reasonCode: decision.reason,
    reason: redact(decision.message),
  };
  const call = decision.call;
  switch (call?.kind) {
    case 'shell': {
      const argv = typeof call.command === 'string' ? ['/bin/sh', '-c', call.command] : [...call.command];
      if (argv.length > 0) return execDecisionEvent({ ...base, argv: argv.map(redact) });
      break;
    }
    case 'read':
    case 'write': {
      const path = call.paths[0];
      if (path) {
        const absolute = isAbsolute(path) ? path : resolve(decision.cwd ?? '/', path);
        return fileDecisionEvent({ ...base, operation: call.kind, path: absolute });
      }
      break;
    }
    case 'fetch': {
      const url = validUrl(call.urls[0]);
      if (url) return httpDecisionEvent({ ...base, method: 'GET', url: redact(url) });
      break;
    }
    case 'mcp':
      return mcpDecisionEvent({ ...base, server: call.server, tool: call.tool });
  }
  return harnessToolEvent({ ...base, harness: decision.harness ?? 'unknown', tool: decision.toolName });
}
