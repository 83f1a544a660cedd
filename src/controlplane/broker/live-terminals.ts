// The broker's live attaches, by attach id and by the control-plane session they ride on, so
// ending a session ends its terminals (DESIGN.md §5 invariant 8).

/** One live terminal, as the admin console lists it. */
export interface LiveTerminal {
  readonly attachId: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly workspaceId: string;
  readonly mode: 'shell' | 'ssh';
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
}

interface Entry {
  readonly info: LiveTerminal;
  /** Closes the attach with a reason (idempotent); resolves once it is closed and audited. */
  readonly end: (reason: string, reasonCode: string) => Promise<void>;
}

export class LiveTerminals {
  private readonly byAttach = new Map<string, Entry>();

  add(info: LiveTerminal, end: Entry['end']): void {
    this.byAttach.set(info.attachId, { info, end });
  }

  remove(attachId: string): void {
    this.byAttach.delete(attachId);
  }

  list(): LiveTerminal[] {
    return [...this.byAttach.values()].map((entry) => entry.info);
  }

  /** The distinct sessions with a live terminal. */
  sessions(): string[] {
    return [...new Set(this.list().map((info) => info.sessionId))];
  }

  /** Ends every terminal of `sessionId`; resolves with how many there were. */
  async endSession(sessionId: string, reason: string, reasonCode: string): Promise<number> {
    const entries = [...this.byAttach.values()].filter((entry) => entry.info.sessionId === sessionId);
    await Promise.all(entries.map((entry) => entry.end(reason, reasonCode)));
    return entries.length;
  }

  /** Ends every terminal (server shutdown). */
  async endAll(reason: string, reasonCode: string): Promise<void> {
    await Promise.all([...this.byAttach.values()].map((entry) => entry.end(reason, reasonCode)));
  }
}
