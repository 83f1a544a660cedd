import type { ITerminalOptions } from '@xterm/xterm';

// Shared by the live terminal and the recording player. System fonts only: nothing is fetched.
export const XTERM_OPTIONS: ITerminalOptions = {
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
  fontSize: 14,
  scrollback: 5000,
  theme: {
    background: '#10151c',
    foreground: '#e6edf3',
    cursor: '#7ee787',
    selectionBackground: '#35506b',
  },
};
