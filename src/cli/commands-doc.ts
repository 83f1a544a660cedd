import { COMMANDS } from './commands/index.ts';

// The README's command table is generated from the command list (`npm run docs`),
// and test/cli/commands-doc.test.ts fails when the committed README differs.

export const COMMANDS_START = '<!-- commands:start -->';
export const COMMANDS_END = '<!-- commands:end -->';

/** The Markdown table of every `paddock` command. */
export function renderCommandsTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = COMMANDS.map(
    (command) =>
      `| ${cell(`\`paddock ${command.name}${command.usage ? ` ${command.usage}` : ''}\``)} | ${cell(command.summary)} |`,
  );
  return ['| command | what it does |', '|---|---|', ...rows].join('\n');
}

/** `readme` with the text between the command markers replaced by the current table. */
export function withCommandsTable(readme: string): string {
  const start = readme.indexOf(COMMANDS_START);
  const end = readme.indexOf(COMMANDS_END);
  if (start === -1 || end < start) throw new Error(`README has no ${COMMANDS_START} … ${COMMANDS_END} block`);
  return `${readme.slice(0, start + COMMANDS_START.length)}\n${renderCommandsTable()}\n${readme.slice(end)}`;
}
