import { closeSync, constants, openSync, readSync } from 'node:fs';
import { knownSyscalls, type SeccompArch, syscallNumber } from './seccomp/syscall-table.ts';

// Makes seccomp refusals visible to the supervisor. The Landlock shim installs the filter a
// second time with SECCOMP_FILTER_FLAG_LOG, so the kernel emits an audit record (type 1326) for
// each refusal. Without auditd those records go to the kernel log, which root reads from
// /dev/kmsg; each carries the host uid, which is this sandbox's alone while it runs.
//
// What this cannot see, and the finding says so: with auditd running the records go to its log
// instead; the kernel rate-limits audit lines in the kernel log (printk_ratelimit: 10 per 5 s),
// so counts are a lower bound; records the ring buffer already overwrote are gone.

/** Refusals of one syscall. */
export interface SeccompDenial {
  /** Syscall name when the policy names it, else `syscall_<nr>`. */
  readonly syscall: string;
  readonly count: number;
}

const RECORD = /type=1326 .*\buid=(\d+)\b.*\barch=([0-9a-f]+)\b.*\bsyscall=(\d+)\b.*\bcode=0x([0-9a-f]+)/;
/** SECCOMP_RET_ERRNO, the only action our filter logs (kills are logged regardless). */
const ACTION_ERRNO = 0x00050000;
/** kmsg records are at most 8 KiB (PRINTKRB_RECORD_MAX and then some). */
const RECORD_BYTES = 8192;
/** Bounded: never read more than this many records in one call. */
const MAX_RECORDS = 100_000;

/** Microseconds since boot on the clock kmsg stamps records with (close to CLOCK_MONOTONIC). */
export function kernelLogClockUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function nameOf(arch: SeccompArch, nr: number): string {
  return knownSyscalls().find((name) => syscallNumber(arch, name) === nr) ?? `syscall_${nr}`;
}

/** Parses kmsg records (`prio,seq,usec,flags;message`) into refusals by `uid` at or after `sinceUs`. */
export function parseSeccompDenials(
  records: readonly string[],
  uid: number,
  sinceUs: number,
  arch: SeccompArch,
): SeccompDenial[] {
  const counts = new Map<string, number>();
  for (const record of records) {
    const semicolon = record.indexOf(';');
    const usec = Number(record.slice(0, semicolon).split(',')[2]);
    if (!(usec >= sinceUs)) continue;
    const match = RECORD.exec(record.slice(semicolon + 1));
    if (!match || Number(match[1]) !== uid) continue;
    if ((Number.parseInt(match[4]!, 16) & 0xffff0000) >>> 0 !== ACTION_ERRNO) continue;
    const name = nameOf(arch, Number(match[3]));
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([syscall, count]) => ({ syscall, count })).sort((a, b) => b.count - a.count);
}

/** Reads the kernel log and returns the refusals of `uid` since `sinceUs`. Needs root; empty when unreadable. */
export function readSeccompDenials(uid: number, sinceUs: number, arch: SeccompArch): SeccompDenial[] {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return [];
  }
  const records: string[] = [];
  const buffer = Buffer.alloc(RECORD_BYTES);
  try {
    for (let i = 0; i < MAX_RECORDS; i++) {
      let size: number;
      try {
        size = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // overwritten while we read: skip to the next record
        break; // EAGAIN: the end of the log
      }
      if (size <= 0) break;
      const record = buffer.toString('utf8', 0, size);
      if (record.includes('type=1326')) records.push(record);
    }
  } finally {
    closeSync(fd);
  }
  return parseSeccompDenials(records, uid, sinceUs, arch);
}
