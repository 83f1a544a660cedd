import type { OptionSpec } from './options.ts';

// The options of the wrapper commands whose wrapped command the analysis follows (wrappers.ts),
// from their manuals (GNU coreutils, findutils, sudo, util-linux, procps). An option missing
// here makes the command unverifiable rather than risk taking an option's argument for the
// wrapped program.

export const WRAPPER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  sudo: {
    flags: 'AbEeHiKklnPSsVv',
    withArg: 'ugpCDhrtUT',
    longFlags: ['--preserve-env', '--login', '--shell', '--non-interactive', '--set-home', '--background'],
    longWithArg: ['--user', '--group', '--prompt', '--close-from', '--chdir', '--host', '--role', '--type'],
  },
  doas: { flags: 'ns', withArg: 'uC' },
  setsid: { flags: 'cfw', longFlags: ['--ctty', '--fork', '--wait'] },
  timeout: {
    flags: 'v',
    withArg: 'sk',
    longFlags: ['--preserve-status', '--foreground', '--verbose'],
    longWithArg: ['--signal', '--kill-after'],
  },
  nice: { withArg: 'n', longWithArg: ['--adjustment'], numeric: true },
  ionice: {
    flags: 't',
    withArg: 'cnpPu',
    longWithArg: ['--class', '--classdata', '--pid', '--pgid', '--uid'],
  },
  stdbuf: { withArg: 'ioe', longWithArg: ['--input', '--output', '--error'] },
  time: {
    flags: 'pvqa',
    withArg: 'fo',
    longFlags: ['--portability', '--verbose', '--quiet', '--append'],
    longWithArg: ['--format', '--output'],
  },
  command: { flags: 'pvV' },
  exec: { flags: 'cl', withArg: 'a' },
  xargs: {
    flags: '0rtpxo',
    withArg: 'adEILnPs',
    optionalArg: 'ile',
    longFlags: ['--null', '--no-run-if-empty', '--verbose', '--interactive', '--exit', '--open-tty'],
    longWithArg: [
      '--arg-file',
      '--delimiter',
      '--eof',
      '--replace',
      '--max-lines',
      '--max-args',
      '--max-procs',
      '--max-chars',
      '--process-slot-var',
    ],
  },
  su: {
    flags: 'lmpfP',
    withArg: 'cgGsw',
    longFlags: ['--login', '--preserve-environment', '--pty'],
    longWithArg: [
      '--command',
      '--session-command',
      '--group',
      '--supp-group',
      '--shell',
      '--whitelist-environment',
    ],
  },
  watch: {
    flags: 'bcegtxrpw',
    withArg: 'nq',
    optionalArg: 'd',
    longFlags: [
      '--beep',
      '--color',
      '--no-color',
      '--errexit',
      '--chgexit',
      '--exec',
      '--no-title',
      '--precise',
      '--no-wrap',
      '--differences',
    ],
    longWithArg: ['--interval', '--equexit'],
  },
};
