import type { Clock } from '../../core/clock.ts';
import type { IdentityClient } from '../identity/identity-client.ts';
import type { ReviewQueue } from '../reviews/queue.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import type { PendingLogins } from './pending-logins.ts';

/** What the built-in route handlers use. */
export interface RouteDeps {
  readonly store: Store;
  readonly sessions: SessionManager;
  readonly identity: IdentityClient;
  readonly reviews: ReviewQueue;
  readonly pendingLogins: PendingLogins;
  /** e.g. `https://paddock.example.com` (no trailing slash). */
  readonly publicOrigin: string;
  /** Whether cookies get `Secure` (the public origin is https). */
  readonly secure: boolean;
  readonly clock: Clock;
}
