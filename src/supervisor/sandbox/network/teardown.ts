import { lstatSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PaddockError } from '../../../core/errors.ts';
import { deleteLink } from './netns-commands.ts';

// After `ip netns del` the kernel frees the namespace in the background once no process holds
// it, and both veth ends go with it: usually within ~10 ms, without the ~25 ms that a
// synchronous `ip link del` costs. If something still holds the namespace (a sandbox process
// the launcher failed to reap), the veth would survive, so after a bounded wait the host end
// is deleted explicitly, which takes the peer with it and leaves such a process with no link.
//
// The interface is identified by name and ifindex: once it is gone another sandbox may reuse
// the name, and that one must never be touched.

/**
 * Whether interface `name` with `ifindex` still exists. While the kernel unregisters a device
 * its sysfs attributes disappear before its entry in /sys/class/net (and before the name is
 * free), so an unreadable ifindex with the entry still present counts as "still there".
 */
function stillPresent(name: string, ifindex: number): boolean {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8')) === ifindex;
  } catch {
    try {
      lstatSync(`/sys/class/net/${name}`);
      return true;
    } catch {
      return false;
    }
  }
}

/** Polls until the interface is gone; false if it is still there after `waitMs`. */
async function waitGone(name: string, ifindex: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (stillPresent(name, ifindex)) {
    if (Date.now() >= deadline) return false;
    await sleep(1);
  }
  return true;
}

/**
 * Resolves once interface `name` with `ifindex` no longer exists, deleting it after `waitMs`.
 * Rejects with PDK_NETWORK_TEARDOWN if it cannot be removed.
 */
export async function removeHostInterface(
  name: string,
  ifindex: number,
  waitMs: number,
  timeoutMs: number,
): Promise<void> {
  if (await waitGone(name, ifindex, waitMs)) return;
  const result = await deleteLink(name, timeoutMs);
  // "Cannot find device" is success: the kernel finished on its own in the meantime.
  if (await waitGone(name, ifindex, 1_000)) return;
  throw new PaddockError(
    'PDK_NETWORK_TEARDOWN',
    `ip link del ${name} failed: ${result.stderr.trim() || 'still present'}`,
    {
      details: { hostInterface: name },
    },
  );
}
