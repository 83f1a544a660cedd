import type { Clock } from '../../core/clock.ts';
import type { PendingLogin } from '../identity/identity-client.ts';

// Browser sign-ins in flight, keyed by their OAuth state: what the callback must check (nonce,
// PKCE verifier) and where to return. Bounded and short-lived: an abandoned sign-in is dropped
// after ttlMs, and the oldest are dropped first beyond maxEntries.

export interface PendingEntry extends PendingLogin {
  readonly returnTo: string;
  readonly createdAt: number;
}

export class PendingLogins {
  readonly #entries = new Map<string, PendingEntry>();
  readonly #clock: Clock;
  readonly ttlMs: number;
  readonly #maxEntries: number;

  constructor(clock: Clock, ttlMs = 10 * 60_000, maxEntries = 10_000) {
    this.#clock = clock;
    this.ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  add(login: PendingLogin, returnTo: string): void {
    this.#entries.set(login.state, { ...login, returnTo, createdAt: this.#clock.now() });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Removes and returns the sign-in for `state` (each is usable once); undefined when unknown or stale. */
  take(state: string): PendingEntry | undefined {
    const entry = this.#entries.get(state);
    this.#entries.delete(state);
    if (!entry || this.#clock.now() - entry.createdAt > this.ttlMs) return undefined;
    return entry;
  }
}

/** A return path that stays on this origin: an absolute path, never `//host` or `/\host`. */
export function safeReturnPath(value: string | null): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f]/.test(value)) return '/';
  return value;
}
