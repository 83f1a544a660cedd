import { PaddockError } from '../../core/errors.ts';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';
import {
  formatEntry,
  parseCount,
  parseTime,
  STORE_HELP,
  STORE_OPTIONS,
  withAuditStore,
} from './audit-store.ts';

const HELP = `Finds events in the control plane's central audit store. Every filter given must
match. Times are ISO 8601 (2026-01-15T09:30:00Z) or a duration before now (15m, 24h, 7d)
and apply to the time each event was recorded.

Text output is one line per event (time, #global sequence, source#seq, event name, action,
message); --json prints a JSON array of {gseq, source, seq, uid, time, hash, event}.

Exit codes: 0 done (also when nothing matched), 1 store unavailable, 2 usage error.

Options:
      --user USER        the acting user's email (or identity-provider uid)
      --workspace ID     the workspace the event happened in
      --class N          OCSF class_uid, e.g. 4001 (Network Activity)
      --event NAME       event name, e.g. egress.denied
      --decision D       allow | deny | review
      --since TIME       from (inclusive)
      --until TIME       until (exclusive)
      --limit N          at most N events, the oldest matches first (default 100, at most 10000)
${STORE_HELP}
${JSON_HELP}
`;

const DECISIONS = new Set(['allow', 'deny', 'review']);

/** `paddock audit search`: events by user, workspace, class, decision and time range. */
export const auditSearchCommand: Command = {
  name: 'audit search',
  summary: 'find audit events by user, workspace, class, event, decision and time range',
  usage:
    '[--user USER] [--workspace ID] [--class N] [--event NAME] [--decision D] [--since TIME] [--until TIME] [--limit N] [--json]',
  help: HELP,
  options: {
    ...JSON_OPTION,
    ...STORE_OPTIONS,
    user: { type: 'string' },
    workspace: { type: 'string' },
    class: { type: 'string' },
    event: { type: 'string' },
    decision: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock audit search takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const text = (name: string) => ctx.values[name] as string | undefined;
    const decision = text('decision');
    if (decision !== undefined && !DECISIONS.has(decision))
      throw new PaddockError('PDK_CLI_USAGE', `--decision must be allow, deny or review, got ${decision}`);
    const classText = text('class');
    const classUid = classText === undefined ? undefined : parseCount('class', classText, 0, 999_999);
    const now = Date.now();
    const filter = {
      user: text('user'),
      workspace: text('workspace'),
      classUid,
      eventCode: text('event'),
      decision: decision as 'allow' | 'deny' | 'review' | undefined,
      since: parseTime('since', text('since'), now),
      until: parseTime('until', text('until'), now),
      limit: parseCount('limit', text('limit'), 100, 10_000),
    };
    const found = await withAuditStore(ctx, (store) => store.searchAuditLog(filter));
    if (ctx.values['json']) {
      writeJson(
        ctx.stdout,
        found.map((e) => ({
          gseq: e.gseq,
          source: e.source,
          seq: e.seq,
          uid: e.uid,
          time: e.time,
          hash: e.hash,
          event: JSON.parse(e.eventJson),
        })),
      );
    } else {
      for (const entry of found) ctx.stdout.write(`${formatEntry(entry)}\n`);
    }
    return 0;
  },
};
