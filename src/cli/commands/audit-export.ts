import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { PaddockError } from '../../core/errors.ts';
import type { Command } from '../command.ts';
import { parseTime, recordAuditAction, STORE_HELP, STORE_OPTIONS, withAuditStore } from './audit-store.ts';

const HELP = `Writes the control plane's central audit events as OCSF JSON lines, one event per
line in global order, each exactly as stored (canonical JSON, the bytes its hash covers),
for a SIEM or an archive. Times are ISO 8601 or a duration before now (15m, 24h, 7d) and
apply to the time each event was recorded. A summary goes to stderr, and the export is
recorded as an audit.exported event in the control plane's own chain.

Exit codes: 0 done, 1 store or file unavailable, 2 usage error.

Options:
      --format F         ocsf-jsonl (the only format)
      --since TIME       from (inclusive)
      --until TIME       until (exclusive)
  -o, --out FILE         write to FILE (created mode 0600) instead of stdout
${STORE_HELP}
`;

/** `paddock audit export --format ocsf-jsonl`: the central audit log as OCSF JSON lines. */
export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'write the central audit events as OCSF JSON lines',
  usage: '--format ocsf-jsonl [--since TIME] [--until TIME] [--out FILE] [--data-dir DIR] [--store-url URL]',
  help: HELP,
  options: {
    ...STORE_OPTIONS,
    format: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock audit export takes no arguments, got "${ctx.positionals[0]}"`,
      );
    if (ctx.values['format'] !== 'ocsf-jsonl')
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `--format must be ocsf-jsonl, got ${String(ctx.values['format'] ?? 'nothing')}`,
      );
    const now = Date.now();
    const since = parseTime('since', ctx.values['since'] as string | undefined, now);
    const until = parseTime('until', ctx.values['until'] as string | undefined, now);
    const outPath = ctx.values['out'] as string | undefined;
    const out = outPath ? createWriteStream(resolve(ctx.cwd, outPath), { mode: 0o600 }) : ctx.stdout;
    let count = 0;
    let lastGseq = 0;
    try {
      await withAuditStore(ctx, async (store) => {
        for (;;) {
          const page = await store.searchAuditLog({ since, until, afterGseq: lastGseq, limit: 10_000 });
          if (page.length === 0) break;
          const chunk = page.map((entry) => `${entry.eventJson}\n`).join('');
          if (!out.write(chunk)) await once(out, 'drain');
          count += page.length;
          lastGseq = page.at(-1)?.gseq as number;
        }
        await recordAuditAction(store, {
          event: 'audit.exported',
          resource: outPath ?? 'stdout',
          message: `${count} audit events exported as OCSF JSON lines`,
          details: { events: count, last_gseq: lastGseq, since: since ?? 0, until: until ?? 0 },
        });
      });
    } finally {
      if (outPath) {
        (out as ReturnType<typeof createWriteStream>).end();
        await once(out, 'close');
      }
    }
    ctx.stderr.write(
      `exported ${count} ${count === 1 ? 'event' : 'events'}${outPath ? ` to ${outPath}` : ''}\n`,
    );
    return 0;
  },
};
