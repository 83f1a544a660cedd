import { spawn } from 'node-pty';
import type { WorkspaceTerminal } from '../../../src/supervisor/workspace/pty-terminal.ts';

// Test support: a real shell on a real pty, NOT sandboxed, for tests about the channel's wire
// (the sandboxed shell is covered end to end in test/supervisor/workspace/).

export function plainPtyShell(cols: number, rows: number): WorkspaceTerminal {
  const pty = spawn('/bin/sh', [], { cols, rows, env: { PATH: '/usr/bin:/bin', PS1: '$ ' } });
  const exits: ((end: { exitCode: number | null; signal: string | null }) => void)[] = [];
  let ended: { exitCode: number | null; signal: string | null } | undefined;
  pty.onExit(({ exitCode, signal }) => {
    ended = { exitCode, signal: signal ? String(signal) : null };
    for (const listener of exits) listener(ended);
  });
  return {
    write: (data) => pty.write(Buffer.from(data).toString('utf8')),
    resize: (c, r) => pty.resize(c, r),
    close: () => pty.kill('SIGHUP'),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    onData: (listener) => pty.onData((text) => listener(Buffer.from(text, 'utf8'))),
    onExit: (listener) => (ended ? listener(ended) : exits.push(listener)),
  };
}
