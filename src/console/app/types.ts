// The control plane's API as the console reads it (JSON over same-origin fetch). Review
// requests are the review queue's own ReviewView, so the names cannot drift.
import type { ReviewApprovalView, ReviewView } from '../../policy/review/types.ts';

export type { ReviewApprovalView, ReviewView };

/** A point in time as the API sends it: ISO 8601 text or epoch milliseconds (sessions). */
export type Instant = string | number;

/** An entry of GET /api/reviews: the view plus what it means for the signed-in user. */
export interface ReviewListItem extends ReviewView {
  /** The signed-in user requested it (and so may not answer it). */
  readonly mine?: boolean;
  /** The signed-in user may approve or deny it now. */
  readonly canAnswer?: boolean;
}

export interface SessionInfo {
  readonly id: string;
  readonly expiresAt: Instant;
  readonly idleExpiresAt: Instant;
}

/** GET /api/me */
export interface Me {
  readonly user: { readonly id: string; readonly displayName: string; readonly groups: readonly string[] };
  readonly admin: boolean;
  readonly reviewer: boolean;
  readonly session: SessionInfo;
}

export interface Workspace {
  readonly id: string;
  readonly owner: string;
  readonly profile: string;
  readonly provider: string;
  readonly state: string;
  readonly stateVersion: number;
  readonly createdAt: Instant;
  readonly updatedAt: Instant;
  /** Whether the workspace's supervisor is dialled in to the control plane. */
  readonly connected: boolean;
}

export const WORKSPACE_ACTIONS = ['start', 'stop', 'rebuild', 'revoke', 'decommission'] as const;
export type WorkspaceAction = (typeof WORKSPACE_ACTIONS)[number];

export interface ActivityEvent {
  readonly time: Instant;
  /** The OCSF class name, e.g. `Application Lifecycle`. */
  readonly className: string;
  readonly activity: string;
  readonly summary: string;
  readonly decision?: string;
}

/** A terminal recording; `endedAt` and `sha256` are absent (or null) while it is live. */
export interface Recording {
  readonly id: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly startedAt: Instant;
  readonly endedAt?: Instant | null;
  readonly sha256?: string | null;
  /** The size of the .cast file: `sizeBytes` in the broker's sidecar, `bytes` in the API draft. */
  readonly sizeBytes?: number;
  readonly bytes?: number;
}

export interface LiveTerminal {
  readonly attachId: string;
  readonly workspaceId: string;
  readonly startedAt: Instant;
}

export interface LiveSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Instant;
  readonly expiresAt: Instant;
  readonly lastSeenAt: Instant;
  readonly terminals?: readonly LiveTerminal[];
}
