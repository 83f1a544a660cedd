// Types of client.js (plain JavaScript for start-up speed; see its header).

export declare const HARNESSES: readonly string[];
export declare const DEFAULT_SOCKET: string;
export declare const TIMEOUT_MS: number;
export declare const MAX_INPUT_BYTES: number;

export interface HookClientIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Runs one hook call: forwards stdin to the hook server and writes its answer.
 * Resolves to the exit code, 0 or 2 (2 = block, with the reason on stderr).
 */
export declare function runHookClient(argv: string[], io?: HookClientIo): Promise<0 | 2>;
