import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type AddressPool, HOST_INTERFACE_PREFIX } from './address-plan.ts';

// Chooses the next slot to try. This only avoids obvious collisions cheaply (a slot this process
// holds, or whose host interface exists); the kernel's refusal of a duplicate interface name is
// what actually arbitrates between supervisor processes. Slots are handed out round-robin from
// a random start, so a slot just closed (whose veth the kernel may still be freeing) is not
// retried at once, and two processes starting together rarely probe the same slots.

const held = new Set<number>();
let cursor = -1;

/** Whether a host interface of this slot exists (one stat, no process). */
export function hostInterfaceExists(slot: number): boolean {
  return existsSync(`/sys/class/net/${HOST_INTERFACE_PREFIX}${slot}`);
}

/** Reserves a slot in this process; undefined when every slot of the pool is taken. */
export function reserveSlot(pool: AddressPool): number | undefined {
  const usable = pool.slots - 1; // slot 0 is reserved
  if (cursor < 0) cursor = randomInt(usable);
  for (let step = 0; step < usable; step++) {
    cursor = (cursor + 1) % usable;
    const slot = cursor + 1;
    if (held.has(slot) || hostInterfaceExists(slot)) continue;
    held.add(slot);
    return slot;
  }
  return undefined;
}

/** Returns a slot once its interface is gone (or was never created). */
export function releaseSlot(slot: number): void {
  held.delete(slot);
}
