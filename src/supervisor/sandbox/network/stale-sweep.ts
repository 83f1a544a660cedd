import { readdirSync } from 'node:fs';
import { createLogger } from '../../../core/log.ts';
import { HOST_INTERFACE_PREFIX, parseHostInterfaceName, parseNetnsName } from './address-plan.ts';
import { deleteLink, deleteNetns } from './netns-commands.ts';

// Removes sandbox networks left by supervisor processes that are gone (crash, kill -9, power
// loss with /run on disk): namespaces `pdk-<slot>-<pid>` whose pid is dead, and host interfaces
// `pdkh<slot>` that no live owner's namespace claims. A live neighbour's networks are never
// touched. Run it when a supervisor starts, before it creates networks.
//
// Host interface before namespace name: while the stale veth exists its slot cannot be taken,
// so the interface deleted is certainly the stale one. A host interface with no namespace name
// at all is deleted too: that only happens when the name was removed while a process still
// held the namespace, and cutting such a process off is the point. (A supervisor running in a
// private mount namespace would have its names hidden from us; run supervisors in the host's.)

const log = createLogger('sandbox-network');

export interface SweepReport {
  /** Namespace names removed. */
  readonly namespaces: readonly string[];
  /** Host interfaces removed. */
  readonly interfaces: readonly string[];
  /** What could not be removed, one line each. */
  readonly errors: readonly string[];
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Whether a process exists (EPERM still means it exists). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function slotsWithLiveOwner(isAlive: (pid: number) => boolean): Set<number> {
  const live = new Set<number>();
  for (const name of listDir('/run/netns')) {
    const parsed = parseNetnsName(name);
    if (parsed && isAlive(parsed.ownerPid)) live.add(parsed.slot);
  }
  return live;
}

/**
 * Removes stale sandbox networks of dead supervisor processes.
 * @param options.isAlive decides whether an owner pid is alive (default: kill(pid, 0)).
 */
export async function sweepStaleSandboxNetworks(
  options: { timeoutMs?: number; isAlive?: (pid: number) => boolean } = {},
): Promise<SweepReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const isAlive = options.isAlive ?? processAlive;
  const namespaces: string[] = [];
  const interfaces: string[] = [];
  const errors: string[] = [];
  const removeInterface = async (slot: number) => {
    // Re-read just before deleting: a neighbour may have claimed the slot since the listing.
    if (slotsWithLiveOwner(isAlive).has(slot)) return;
    const name = `${HOST_INTERFACE_PREFIX}${slot}`;
    if (!listDir('/sys/class/net').includes(name)) return;
    const result = await deleteLink(name, timeoutMs);
    if (result.code === 0) interfaces.push(name);
    else errors.push(`ip link del ${name}: ${result.stderr.trim()}`);
  };

  for (const name of listDir('/run/netns')) {
    const parsed = parseNetnsName(name);
    if (!parsed || isAlive(parsed.ownerPid)) continue;
    await removeInterface(parsed.slot);
    const result = await deleteNetns(name, timeoutMs);
    if (result.code === 0) namespaces.push(name);
    // A concurrent sweep (another process's) may have removed it first: gone is gone.
    else if (!listDir('/run/netns').includes(name)) continue;
    else errors.push(`ip netns del ${name}: ${result.stderr.trim()}`);
  }
  for (const name of listDir('/sys/class/net')) {
    const slot = parseHostInterfaceName(name);
    if (slot !== undefined) await removeInterface(slot);
  }
  if (namespaces.length + interfaces.length + errors.length > 0) {
    log.warn(
      { namespaces: namespaces.join(' '), interfaces: interfaces.join(' '), errors: errors.length },
      'swept stale sandbox networks',
    );
  }
  return { namespaces, interfaces, errors };
}
