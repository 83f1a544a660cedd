import { resolve } from 'node:path';
import { verifyChain } from '../../audit/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';

const HELP = `Reads a hash-chained audit log (JSON lines written by the supervisor or the
control plane) from start to end and checks every link: each record's hash over its
content, consecutive sequence numbers, and each record's prev against the record before.
An edited, removed, inserted or reordered record, and a truncated or garbled line, break
the chain; the first sequence number that cannot be trusted is reported.

A log cut exactly at a record boundary still verifies: compare the printed head hash with
the one recorded elsewhere (the control plane's store, your SIEM) to detect that.

--json prints {"file", "ok", "records", "head", "firstBad": {"seq", "line", "reason"}}.

Exit codes: 0 chain intact, 1 chain broken or file unreadable, 2 usage error.

Options:
${JSON_HELP}
`;

/** `paddock audit verify FILE`: checks an audit log's hash chain. */
export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'check the hash chain of an audit log',
  usage: 'FILE',
  help: HELP,
  options: { ...JSON_OPTION },
  async run(ctx) {
    if (ctx.positionals.length !== 1) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock audit verify takes one FILE, got ${ctx.positionals.length}`,
      );
    }
    const file = ctx.positionals[0] as string;
    const result = await verifyChain(resolve(ctx.cwd, file));
    if (ctx.values['json']) {
      writeJson(ctx.stdout, { file, ...result });
    } else if (result.ok) {
      const noun = result.records === 1 ? 'record' : 'records';
      ctx.stdout.write(`${file}: ${result.records} ${noun}, chain intact (head ${result.head})\n`);
    } else {
      const bad = result.firstBad as NonNullable<typeof result.firstBad>;
      ctx.stdout.write(`${file}: chain broken at seq ${bad.seq} (line ${bad.line}): ${bad.reason}\n`);
    }
    return result.ok ? 0 : 1;
  },
};
