// Where the broker's terminals go: a shell inside one workspace. The broker (browser
// WebSocket, `paddock connect`, SSH ProxyCommand) only relays and records; opening the
// shell is the workspace's business, reached over the channel its supervisor dialed.

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

export interface TerminalExit {
  /** The shell's exit status, or null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** One open terminal: bytes both ways, resizes, and how it ended. */
export interface Terminal {
  write(data: Uint8Array | string): void;
  resize(size: TerminalSize): void;
  /** Ends the shell (SIGHUP first); `onExit` still fires. */
  close(): void;
  onData(listener: (data: Uint8Array) => void): void;
  onExit(listener: (exit: TerminalExit) => void): void;
  /**
   * Optional flow control: stop and restart `onData` while the client or the recording is
   * behind. A terminal without them is closed when its output backlog passes the broker's bound.
   */
  pause?(): void;
  resume?(): void;
}

export interface TerminalOpenOptions extends TerminalSize {
  /** The user the terminal is for, to be named in the workspace's own records. */
  readonly userId: string;
  /** Opaque: the broker's id for this attach, for correlation in both planes' audit. */
  readonly attachId: string;
  /** `shell` (interactive login shell) or `ssh` (an SSH server speaking on the stream). */
  readonly mode: 'shell' | 'ssh';
}

/** A workspace that can open terminals; rejects with a PaddockError when it is not running or not connected. */
export interface TerminalTarget {
  readonly workspaceId: string;
  open(options: TerminalOpenOptions): Promise<Terminal>;
}
