import { spawn } from 'node:child_process';
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

// The same teardown as a shell script for a process that outlives the supervisor: a CLI that
// has its command's exit status and audit events need not keep the user waiting ~20-40 ms for
// the kernel to free the namespace. `sleep` takes fractions on Debian (coreutils).
const DETACHED_TEARDOWN = `ip netns del "$PDK_NETNS" 2>/dev/null
i=0
while [ "$(cat "/sys/class/net/$PDK_IF/ifindex" 2>/dev/null)" = "$PDK_IFINDEX" ]; do
  if [ "$i" -ge "$PDK_POLLS" ]; then exec ip link del "$PDK_IF"; fi
  sleep 0.01
  i=$((i + 1))
done
`;

/**
 * Starts the teardown of namespace `netns` and host interface `name` (with `ifindex`) in a
 * detached process (its own session, not waited for), and returns at once. Should that process
 * be killed half-way, what is left carries the supervisor's pid in its name and is removed by
 * the stale sweep (stale-sweep.ts) of the next supervisor to start.
 */
export function detachTeardown(netns: string, name: string, ifindex: number, waitMs: number): void {
  const child = spawn('/bin/sh', ['-c', DETACHED_TEARDOWN], {
    detached: true,
    stdio: 'ignore',
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LC_ALL: 'C',
      PDK_NETNS: netns,
      PDK_IF: name,
      PDK_IFINDEX: String(ifindex),
      PDK_POLLS: String(Math.ceil(waitMs / 10)),
    },
  });
  child.on('error', () => {}); // no /bin/sh: the sweep is the backstop
  child.unref();
}
