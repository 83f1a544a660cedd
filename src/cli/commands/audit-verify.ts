import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { keyIdOf, publicKeyFromPem, publicKeyPathFor, verifyChain } from '../../audit/index.ts';
import { auditKeyPath, verifyAuditStore } from '../../controlplane/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { type Command, type CommandContext, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';
import {
  recordAuditAction,
  STORE_HELP,
  STORE_OPTIONS,
  storeLocation,
  withAuditStore,
} from './audit-store.ts';

const HELP = `With FILE: reads a hash-chained audit log (JSON lines written by a spool or
\`paddock run\`) from start to end and checks every link: each record's hash over its
content, consecutive sequence numbers, and each record's prev against the record before.
An edited, removed, inserted or reordered record, and a truncated or garbled line, break
the chain; the first sequence number that cannot be trusted is reported. A log cut exactly
at a record boundary still verifies: compare the printed head hash with the one recorded
elsewhere (the control plane's store, your SIEM).

Without FILE: verifies the control plane's central audit store: every source's chain, the
global sequence, and the signed checkpoints (Ed25519 signature, each one chained to the one
before, and each one's chain heads equal to the chains at its point). A checkpoint covering
events that are gone reveals events cut off the end. The first bad record (gseq, source,
seq) and the first bad checkpoint are reported. Checkpoints are checked with the public key
beside the data directory's signing key, or with the --public-key files given (a copy kept
elsewhere is the stronger check: whoever can rewrite the store may also replace that file).
A failed verification is recorded as an audit.verify_failed event in the control plane's chain.

--json prints, for a FILE, {"file", "ok", "records", "head", "firstBad"}; for the store,
{"ok", "events", "checkpoints", "heads", "firstBadEvent", "firstBadCheckpoint"}.

Exit codes: 0 intact, 1 broken or unreadable, 2 usage error.

Options:
${STORE_HELP}
      --public-key FILE  trusted checkpoint public key (SPKI PEM); repeat for several
${JSON_HELP}
`;

/** `paddock audit verify [FILE]`: checks an audit log's hash chain, or the central store. */
export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: "check an audit log's hash chain, or the central store's chains and signed checkpoints",
  usage: '[FILE] [--data-dir DIR] [--store-url URL] [--public-key FILE]… [--json]',
  help: HELP,
  options: { ...JSON_OPTION, ...STORE_OPTIONS, 'public-key': { type: 'string', multiple: true } },
  async run(ctx) {
    if (ctx.positionals.length > 1) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock audit verify takes at most one FILE, got ${ctx.positionals.length}`,
      );
    }
    if (ctx.positionals.length === 0) return verifyStore(ctx);
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

function trustedKeys(ctx: CommandContext): Map<string, KeyObject> {
  const given = (ctx.values['public-key'] as string[] | undefined) ?? [];
  const files =
    given.length > 0
      ? given.map((f) => resolve(ctx.cwd, f))
      : [publicKeyPathFor(auditKeyPath(storeLocation(ctx).dataDir))];
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new PaddockError(
        'PDK_AUDIT_KEY',
        `checkpoint public key ${file} could not be read (${(error as Error).message}): pass the key with --public-key FILE`,
        { cause: error },
      );
    }
    const key = publicKeyFromPem(pem);
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

async function verifyStore(ctx: CommandContext): Promise<number> {
  const keys = trustedKeys(ctx);
  const result = await withAuditStore(ctx, async (store) => {
    const outcome = await verifyAuditStore(store, { publicKeys: keys });
    if (!outcome.ok) {
      const bad = outcome.firstBadEvent;
      const badCheckpoint = outcome.firstBadCheckpoint;
      await recordAuditAction(store, {
        event: 'audit.verify_failed',
        resource: bad ? `gseq ${bad.gseq}` : `checkpoint ${badCheckpoint?.index}`,
        message: 'audit store verification failed',
        failure: {
          reasonCode: bad ? 'chain_broken' : 'checkpoint_invalid',
          reason: bad?.reason ?? badCheckpoint?.reason,
        },
        details: { events_verified: outcome.events, checkpoints_verified: outcome.checkpoints },
      });
    }
    return outcome;
  });
  if (ctx.values['json']) {
    writeJson(ctx.stdout, result);
    return result.ok ? 0 : 1;
  }
  const sources = result.heads.length;
  if (result.ok) {
    ctx.stdout.write(
      `audit store: ${result.events} events in ${sources} ${sources === 1 ? 'chain' : 'chains'}, ` +
        `${result.checkpoints} signed ${result.checkpoints === 1 ? 'checkpoint' : 'checkpoints'}: intact\n`,
    );
    return 0;
  }
  const bad = result.firstBadEvent;
  if (bad) {
    const where = bad.source
      ? `gseq ${bad.gseq} (source ${bad.source} seq ${bad.seq}, uid ${bad.uid})`
      : `after gseq ${bad.gseq - 1}`;
    ctx.stdout.write(`audit store: first bad record at ${where}: ${bad.reason}\n`);
  }
  const badCheckpoint = result.firstBadCheckpoint;
  if (badCheckpoint)
    ctx.stdout.write(`audit store: first bad checkpoint ${badCheckpoint.index}: ${badCheckpoint.reason}\n`);
  ctx.stdout.write(
    `audit store: ${result.events} events and ${result.checkpoints} checkpoints verified before that\n`,
  );
  return 1;
}
