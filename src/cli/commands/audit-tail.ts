import { setTimeout as sleep } from 'node:timers/promises';
import { PaddockError } from '../../core/errors.ts';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { formatEntry, parseCount, STORE_HELP, STORE_OPTIONS, withAuditStore } from './audit-store.ts';

const HELP = `Prints the newest events of the control plane's central audit store, oldest first,
one per line: time, #global sequence, source#seq, event name, action and message. With
--follow, keeps printing events as they are stored (polling once a second) until
interrupted. --json prints each event as one line of canonical OCSF JSON instead.

Exit codes: 0 done, 1 store unavailable, 2 usage error.

Options:
  -n, --lines N          how many of the newest events to print first (default 20, at most 10000)
  -f, --follow           keep printing new events
${STORE_HELP}
${JSON_HELP}
`;

/** `paddock audit tail [--follow]`: the newest audit events, then new ones as they arrive. */
export const auditTailCommand: Command = {
  name: 'audit tail',
  summary: 'print the newest audit events, and with --follow new ones as they are stored',
  usage: '[-n N] [--follow] [--data-dir DIR] [--store-url URL] [--json]',
  help: HELP,
  options: {
    ...JSON_OPTION,
    ...STORE_OPTIONS,
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock audit tail takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const lines = parseCount('lines', ctx.values['lines'] as string | undefined, 20, 10_000);
    const json = ctx.values['json'] === true;
    return withAuditStore(ctx, async (store) => {
      let last = 0;
      let page = await store.searchAuditLog({ limit: lines, newest: true });
      for (;;) {
        for (const entry of page) ctx.stdout.write(`${json ? entry.eventJson : formatEntry(entry)}\n`);
        last = page.at(-1)?.gseq ?? last;
        if (!ctx.values['follow']) return 0;
        if (page.length === 0) await sleep(1000);
        page = await store.readAuditLog({ afterGseq: last, limit: 1000 });
      }
    });
  },
};
