import type { Terminal, TerminalTarget } from '../../../../src/controlplane/broker/terminal-target.ts';
import { PaddockError } from '../../../../src/core/errors.ts';
import { WRITABLE_WORKSPACE } from '../../../support/sandbox-harness.ts';
import { openSandboxTerminal, spawnPtyTerminal } from './pty-terminal.ts';

// TerminalTargets for the broker's tests and benchmark, over real terminals: a shell in a real
// agent sandbox, or a bare process on a pty.

/** Every terminal a target opened, so a test can check they all ended. */
export interface RecordingTarget extends TerminalTarget {
  readonly opened: Terminal[];
}

/** A workspace whose terminals are `bash` (or `command`) inside a real sandbox over `workdir`. */
export function sandboxTarget(
  workspaceId: string,
  workdir: string,
  command: readonly string[] = ['bash', '--norc', '--noprofile', '-i'],
): RecordingTarget {
  const opened: Terminal[] = [];
  return {
    workspaceId,
    opened,
    async open(options) {
      if (options.mode !== 'shell')
        throw new PaddockError('PDK_CHANNEL_TERMINAL', 'this target opens shells only');
      const terminal = openSandboxTerminal({
        command,
        workdir,
        dataScope: WRITABLE_WORKSPACE,
        cols: options.cols,
        rows: options.rows,
        hostEnv: { TERM: 'xterm-256color' },
      });
      opened.push(terminal);
      return terminal;
    },
  };
}

/** A workspace whose terminals run `file args` bare on a pty (no sandbox), e.g. `cat`. */
export function barePtyTarget(
  workspaceId: string,
  file: string,
  args: readonly string[] = [],
): RecordingTarget {
  const opened: Terminal[] = [];
  return {
    workspaceId,
    opened,
    async open(options) {
      const terminal = spawnPtyTerminal(file, args, {
        cols: options.cols,
        rows: options.rows,
        env: { TERM: 'xterm-256color', PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
      });
      opened.push(terminal);
      return terminal;
    },
  };
}

/** A workspace that is not running: every open fails as the channel reports it. */
export function unavailableTarget(workspaceId: string): TerminalTarget {
  return {
    workspaceId,
    async open() {
      throw new PaddockError('PDK_CHANNEL_NOT_CONNECTED');
    },
  };
}
