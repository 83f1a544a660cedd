import { closeSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';

// Every sandbox runs as its own host uid (and gid) from a fixed range far above any account a
// distribution creates (useradd stops at 60000; systemd's dynamic users at 65519; container
// subordinate ranges usually start at 100000 and rarely reach 2^31). Dedicated per sandbox
// because RLIMIT_NPROC counts per host uid, the kernel keyring is per uid, and a uid shared
// with the user would give an escaped agent the user's authority. No account is created: the
// kernel needs none, and inside its user namespace the sandbox sees itself as uid 1000.

/** First sandbox uid (= gid). */
export const SANDBOX_UID_BASE = 2_000_000_000;
/** How many sandboxes may run at once on one host. */
export const SANDBOX_UID_SLOTS = 4096;

export interface UidLease {
  readonly uid: number;
  readonly gid: number;
  /** Frees the slot; idempotent. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes slot `slot` if free, reclaiming it from a launcher that died without releasing it. */
function tryTake(slotsDir: string, slot: number): boolean {
  const path = join(slotsDir, String(slot));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      try {
        unlinkSync(path);
      } catch {
        // Another launcher reclaimed it first; the next attempt decides.
      }
    }
  }
  return false;
}

/**
 * Leases a free uid. Slots are files in `slotsDir` created with O_EXCL and holding the
 * launcher's pid, so two launchers never share a uid and a crashed one's slot is reclaimed.
 */
export function leaseSandboxUid(slotsDir: string): UidLease {
  const start = Math.floor(Math.random() * SANDBOX_UID_SLOTS);
  for (let i = 0; i < SANDBOX_UID_SLOTS; i++) {
    const slot = (start + i) % SANDBOX_UID_SLOTS;
    if (!tryTake(slotsDir, slot)) continue;
    const uid = SANDBOX_UID_BASE + slot;
    let released = false;
    return {
      uid,
      gid: uid,
      release() {
        if (released) return;
        released = true;
        try {
          unlinkSync(join(slotsDir, String(slot)));
        } catch {
          // Already gone: nothing holds it.
        }
      },
    };
  }
  throw new PaddockError('PDK_SANDBOX_UID_EXHAUSTED', `all ${SANDBOX_UID_SLOTS} sandbox uids are in use`);
}

/**
 * Kills (SIGKILL) every process whose real uid is `uid`; returns how many it signalled. Only for
 * a uid whose lease this process holds: nothing else runs as a sandbox uid, so what does is a
 * leftover of that sandbox.
 */
export function killUidProcesses(uid: number): number {
  let killed = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    try {
      process.kill(Number(name), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}
