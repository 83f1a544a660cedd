import { PaddockError } from '../../../core/errors.ts';
import { nftInNetns } from './netns-commands.ts';
import { DROP_COUNTER_KINDS, type DropCounterKind, SANDBOX_TABLE } from './nft-rules.ts';
import { summarizeOutput } from './run-command.ts';

// Reads the sandbox table's named counters. Every refused packet lands in exactly one of
// tcp, udp, icmp, other or ipv6; `dns` additionally counts port-53 attempts (tcp or udp), so a
// DNS exfiltration attempt is visible as such. The launcher turns increases into Detection
// Finding events.

/** Packets refused since the network was created, by kind. */
export type DropCounters = Readonly<Record<DropCounterKind, number>>;

interface NftJsonCounter {
  readonly counter?: { readonly name?: string; readonly table?: string; readonly packets?: number };
}

/** Parses `nft -j list counters table inet paddock` output. Exported for tests. */
export function parseDropCounters(json: string): DropCounters {
  const parsed = JSON.parse(json) as { nftables?: NftJsonCounter[] };
  const counters = Object.fromEntries(DROP_COUNTER_KINDS.map((kind) => [kind, Number.NaN])) as Record<
    DropCounterKind,
    number
  >;
  for (const entry of parsed.nftables ?? []) {
    const counter = entry.counter;
    if (!counter || counter.table !== SANDBOX_TABLE || !counter.name?.startsWith('drop_')) continue;
    const kind = counter.name.slice('drop_'.length) as DropCounterKind;
    if (kind in counters) counters[kind] = counter.packets ?? Number.NaN;
  }
  const missing = DROP_COUNTER_KINDS.filter((kind) => !Number.isInteger(counters[kind]));
  // A counter that is gone means the table is not the one we loaded: report it, never zero.
  if (missing.length > 0) throw new Error(`counters missing from the sandbox table: ${missing.join(', ')}`);
  return Object.freeze(counters);
}

/** Reads the drop counters of the sandbox table inside `netnsPath`. */
export async function readDropCounters(netnsPath: string, timeoutMs: number): Promise<DropCounters> {
  const result = await nftInNetns(
    netnsPath,
    ['-j', 'list', 'counters', 'table', 'inet', SANDBOX_TABLE],
    timeoutMs,
  );
  if (result.code !== 0) {
    throw new PaddockError(
      'PDK_NETWORK_COUNTERS',
      `cannot read counters in ${netnsPath} (${summarizeOutput(result)})`,
    );
  }
  try {
    return parseDropCounters(result.stdout);
  } catch (error) {
    throw new PaddockError('PDK_NETWORK_COUNTERS', `${netnsPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
