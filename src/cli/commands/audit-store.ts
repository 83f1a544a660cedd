import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { type AuditSystemEventInput, auditSystemEvent } from '../../audit/index.ts';
import { parseDurationMs } from '../../core/clock.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import {
  type AuditLogEntry,
  CONTROL_PLANE_SOURCE,
  openStore,
  type Store,
  sqliteStoreUrl,
} from '../../controlplane/index.ts';
import type { CommandContext } from '../command.ts';

// What the `paddock audit` store commands share: which store (as `paddock up` finds it),
// time arguments, and one line per event.

export const STORE_OPTIONS = {
  'data-dir': { type: 'string' },
  'store-url': { type: 'string' },
} as const;

export const STORE_HELP = `      --data-dir DIR     the control plane's data directory (default: $${ENV.dataDir}, else ./.paddock);
                         its SQLite store unless --store-url is given
      --store-url URL    the store: postgres://user@host:5432/db (default: $${ENV.databaseUrl}, else SQLite)`;

/** The data directory and store URL the options name. */
export function storeLocation(ctx: CommandContext): { dataDir: string; url: string } {
  const dataDir = resolve(
    ctx.cwd,
    (ctx.values['data-dir'] as string | undefined) ?? ctx.env[ENV.dataDir] ?? '.paddock',
  );
  const url =
    (ctx.values['store-url'] as string | undefined) ?? ctx.env[ENV.databaseUrl] ?? sqliteStoreUrl(dataDir);
  return { dataDir, url };
}

/** Opens the store, runs `work`, closes it. */
export async function withAuditStore<T>(
  ctx: CommandContext,
  work: (store: Store, dataDir: string) => Promise<T>,
): Promise<T> {
  const { dataDir, url } = storeLocation(ctx);
  const store = await openStore({ url });
  try {
    return await work(store, dataDir);
  } finally {
    await store.close();
  }
}

/** A time argument: an ISO 8601 date-time, or a duration before now (`15m`, `24h`, `7d`). */
export function parseTime(option: string, text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const ago = parseDurationMs(text);
  if (ago !== undefined) return now - ago;
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `--${option} ${text} is neither an ISO 8601 time (2026-01-15T09:30:00Z) nor a duration (15m, 24h, 7d)`,
    );
  }
  return time;
}

/** One event as a line: time, global sequence, source#seq, event name, decision and message. */
export function formatEntry(entry: AuditLogEntry): string {
  let event: Record<string, unknown> = {};
  try {
    event = JSON.parse(entry.eventJson) as Record<string, unknown>;
  } catch {
    // A garbled row still prints its position; `paddock audit verify` says what is wrong.
  }
  const name =
    (event['metadata'] as { event_code?: string } | undefined)?.event_code ?? `class ${entry.classUid}`;
  const action = typeof event['action'] === 'string' ? ` ${event['action']}` : '';
  const message =
    typeof event['message'] === 'string' ? ` ${event['message'].replace(/[\r\n\u001b]/g, ' ')}` : '';
  return `${new Date(entry.time).toISOString()} #${entry.gseq} ${entry.source}#${entry.seq} ${name}${action}${message}`;
}

/** A positive integer option. */
export function parseCount(option: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `--${option} must be a whole number from 1 to ${max}, got ${text}`,
    );
  }
  return value;
}

/** Records what the CLI did to the audit trail in the control plane's own chain, as the OS user running it. */
export async function recordAuditAction(
  store: Store,
  input: Omit<AuditSystemEventInput, 'component' | 'user'>,
): Promise<void> {
  const user = userInfo().username;
  await store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [
    auditSystemEvent({ ...input, component: 'cli', user: { uid: user, name: user } }) as unknown as Record<
      string,
      unknown
    >,
  ]);
}
