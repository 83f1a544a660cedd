import { compileRedactPattern, REDACTED, redactText } from '../../core/redact.ts';
import type { OcsfEvent } from '../events/types.ts';

// The last redaction an event gets before it leaves the supervisor (spool, channel, sinks).
// Builders already redact the fields they know carry agent input (URLs, argv, tool arguments);
// this pass walks the whole event so a value that slipped into any other field (a reason, a
// message, an unmapped extra) is caught too. Two kinds of match:
//   - the blueprint's `logging.redact` patterns, in every string value (not in `full` mode);
//   - literal secret values the supervisor holds (credentials it injects), always, in values
//     and keys: a known secret never leaves, whatever the logging mode says.

/** The blueprint's `logging` as the audit layer reads it (config's loggingSpec, structurally). */
export interface EventLogging {
  readonly toolArguments?: 'none' | 'redacted' | 'full';
  readonly redact?: readonly string[];
}

export interface EventRedactionOptions {
  readonly logging?: EventLogging;
  /** Secret values (injected credentials) that must never appear in an event. Shorter than 4 characters: ignored. */
  readonly secrets?: readonly string[];
}

/** Deeper than this is replaced whole: an agent could otherwise nest values to exhaust the stack. */
const MAX_DEPTH = 64;
/** Secrets this short would redact common words and numbers; the secret stores refuse them anyway. */
const MIN_SECRET_LENGTH = 4;

export type EventRedactor = (event: OcsfEvent) => OcsfEvent;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The redactor for one session's events, or the identity when there is nothing to redact.
 * @example const redact = createEventRedactor({ logging: blueprint.spec.logging, secrets: ['ghp_…'] });
 *   spool.append(redact(event));
 */
export function createEventRedactor(options: EventRedactionOptions): EventRedactor {
  const patterns =
    options.logging?.toolArguments === 'full'
      ? []
      : (options.logging?.redact ?? []).map(compileRedactPattern);
  const secrets = [...new Set(options.secrets ?? [])].filter((s) => s.length >= MIN_SECRET_LENGTH);
  // Longest first, so a secret that contains another is replaced whole.
  secrets.sort((a, b) => b.length - a.length);
  const all =
    secrets.length > 0 ? [new RegExp(secrets.map(escapeRegExp).join('|'), 'gu'), ...patterns] : patterns;
  if (all.length === 0) return (event) => event;
  const secretPattern = secrets.length > 0 ? (all[0] as RegExp) : undefined;

  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactText(value, all);
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const key in value as Record<string, unknown>) {
      if (!Object.hasOwn(value, key)) continue;
      const safeKey = secretPattern ? redactText(key, [secretPattern]) : key;
      out[safeKey] = walk((value as Record<string, unknown>)[key], depth + 1);
    }
    return out;
  };
  return (event) => walk(event, 0) as OcsfEvent;
}
