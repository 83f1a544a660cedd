import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { type Attack, outcome } from '../attack.ts';

// The terminal the sandbox shares with the user: TIOCSTI would type commands into the user's
// shell after the agent exits, TIOCLINUX can do the same on a virtual console. `paddock run`
// keeps the session when stdin is a terminal (so job control works), so seccomp must refuse
// both ioctls. Runs the real CLI under script(1) to give it a terminal.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'terminal',
  expected: 'blocked',
  run,
});

const BLUEPRINT = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: redteam-tty, version: 1.0.0, owner: sec@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Terminal attacks.
  dataScope: { read: [/workspace], write: [], deny: [] }
`;

/** Runs `python` (a Python program) with a terminal on stdin through `paddock run`; returns what it printed. */
function inTerminal(python: string): string {
  const workspace = makeWorkspace('pdk-rt-tty-');
  const config = makeWorkspace('pdk-rt-cfg-');
  try {
    const blueprint = join(config.dir, 'blueprint.yaml');
    writeFileSync(blueprint, BLUEPRINT);
    const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
    const command = [
      process.execPath,
      PADDOCK,
      'run',
      '-b',
      blueprint,
      '-c',
      config.dir,
      '-w',
      workspace.dir,
      '--',
      '/usr/bin/python3',
      '-c',
      python,
    ]
      .map(quote)
      .join(' ');
    return execFileSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } finally {
    workspace.remove();
    config.remove();
  }
}

const INJECT = (fd: string, request: string) => `import fcntl, os, sys, termios
print("tty=%s" % os.isatty(0))
try:
    fd = ${fd}
    for ch in b"id\\n":
        fcntl.ioctl(fd, ${request}, bytes([ch]))
    print("INJECTED")
except OSError as e:
    print("refused errno=%d" % e.errno)`;

export const attacks: Attack[] = [
  attack('terminal.tiocsti-stdin', 'inject keystrokes with TIOCSTI on stdin', async () => {
    const out = inTerminal(INJECT('0', 'termios.TIOCSTI'));
    return outcome(
      /tty=True/.test(out) && /refused errno=1\b/.test(out) && !/INJECTED/.test(out),
      out.replace(/\r?\n/g, ' '),
    );
  }),
  attack('terminal.tiocsti-dev-tty', 'inject keystrokes with TIOCSTI on /dev/tty', async () => {
    const out = inTerminal(INJECT('os.open("/dev/tty", os.O_RDWR)', 'termios.TIOCSTI'));
    return outcome(/refused errno=(1|6|2)\b/.test(out) && !/INJECTED/.test(out), out.replace(/\r?\n/g, ' '));
  }),
  attack('terminal.tioclinux', 'TIOCLINUX on the terminal', async () => {
    const out = inTerminal(INJECT('0', '0x541C'));
    return outcome(/refused errno=1\b/.test(out) && !/INJECTED/.test(out), out.replace(/\r?\n/g, ' '));
  }),
];
