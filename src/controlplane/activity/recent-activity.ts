import type { OcsfEvent } from '../../audit/index.ts';

// The console's "recent activity": the last events the control plane recorded about each
// workspace (lifecycle, terminals, reviews), kept in memory as they are written. The audit log
// stays the record; this is a window onto its newest part, so a page load costs no log scan.

/** One line of activity as the console shows it. */
export interface ActivityItem {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly className: string;
  readonly activity: string;
  /** The event's message, else its event code. */
  readonly summary: string;
  /** The disposition or status, when the event carries one (Allowed, Blocked, Success…). */
  readonly decision?: string;
}

const PER_WORKSPACE = 200;

export class RecentActivity {
  readonly #byWorkspace = new Map<string, ActivityItem[]>();

  /** Notes an event written to the audit log; events naming no workspace are skipped. */
  record(event: OcsfEvent): void {
    const workspaceId = workspaceOf(event);
    if (!workspaceId) return;
    const items = this.#byWorkspace.get(workspaceId) ?? [];
    if (items.length === 0) this.#byWorkspace.set(workspaceId, items);
    items.push(itemOf(event));
    if (items.length > PER_WORKSPACE) items.splice(0, items.length - PER_WORKSPACE);
  }

  /** Newest first. */
  recent(workspaceId: string, limit: number): ActivityItem[] {
    const items = this.#byWorkspace.get(workspaceId) ?? [];
    return items.slice(-limit).reverse();
  }
}

function workspaceOf(event: OcsfEvent): string | undefined {
  const device = event['device'] as { uid?: unknown } | undefined;
  return typeof device?.uid === 'string' ? device.uid : undefined;
}

function itemOf(event: OcsfEvent): ActivityItem {
  const metadata = event['metadata'] as { event_code?: unknown } | undefined;
  const message = event['message'];
  const decision = event['disposition'] ?? event['status'];
  return {
    time: typeof event['time'] === 'number' ? event['time'] : 0,
    className: String(event['class_name'] ?? ''),
    activity: String(event['activity_name'] ?? ''),
    summary: typeof message === 'string' ? message : String(metadata?.event_code ?? ''),
    ...(typeof decision === 'string' ? { decision } : {}),
  };
}
