import { existsSync } from 'node:fs';
import { createLogger } from '../../../core/log.ts';
import { DEFAULT_PROXY_PORTS } from './address-plan.ts';
import { ensureHostFirewall } from './host-firewall.ts';
import { createSandboxNetwork, type SandboxNetwork, type SandboxNetworkOptions } from './sandbox-network.ts';

// Networks prepared ahead of time, so a sandbox start does not wait ~15 ms for ip and nft.
// Why this keeps every invariant:
// - a pooled network is built exactly as createSandboxNetwork builds one: default-deny rules
//   are loaded before it enters the pool, and nothing has ever run inside it;
// - it is handed out once (removed from the pool on acquire) and never returned: close()
//   destroys it, so no state (conntrack entries, counters, sockets) passes between sandboxes;
// - it is checked on the way out (its namespace and host interface still exist), else discarded;
// - the pool belongs to one supervisor process: if that dies, its unused networks are ordinary
//   stale networks (owner pid gone) and the next supervisor's sweep removes them;
// - the shared host table is re-asserted by refills (at most every 30 s), so a table lost to
//   `nft flush ruleset` comes back without waiting for a restart.

const log = createLogger('sandbox-network');

/** How often a refill re-asserts the shared host table, milliseconds. */
const HOST_TABLE_RECHECK_MS = 30_000;

export interface SandboxNetworkPoolOptions extends SandboxNetworkOptions {
  /** Networks kept ready. Default 2; 0 means build on demand only; at most 32. */
  readonly size?: number;
}

export interface SandboxNetworkPool {
  /** A network no one else has had; from the pool if one is ready, else built now. */
  acquire(): Promise<SandboxNetwork>;
  /** Networks ready right now. */
  readonly ready: number;
  /** Waits for a refill in progress, then closes every network not yet handed out. */
  close(): Promise<void>;
}

function stillIntact(network: SandboxNetwork): boolean {
  return existsSync(network.netnsPath) && existsSync(`/sys/class/net/${network.hostInterface}`);
}

/**
 * Creates a pool and starts filling it in the background.
 * @example
 * const pool = createSandboxNetworkPool({ size: 2 });
 * const network = await pool.acquire(); // ~0.1 ms when one is ready
 */
export function createSandboxNetworkPool(options: SandboxNetworkPoolOptions = {}): SandboxNetworkPool {
  const size = Math.min(Math.max(options.size ?? 2, 0), 32);
  const ready: SandboxNetwork[] = [];
  let refilling: Promise<void> | undefined;
  let closed = false;

  let hostTableCheckedAt = 0;
  const refill = () => {
    if (closed || refilling || ready.length >= size) return;
    refilling = (async () => {
      // Spawning is synchronous in Node (fork and exec block the event loop for a few ms), so
      // the refill starts on a later turn: acquire() must hand its network out first.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        if (Date.now() - hostTableCheckedAt > HOST_TABLE_RECHECK_MS) {
          await ensureHostFirewall(
            options.ports ?? DEFAULT_PROXY_PORTS,
            options.commandTimeoutMs ?? 10_000,
            true,
          );
          hostTableCheckedAt = Date.now();
        }
        // One at a time: building competes for the CPU with the sandbox that was just started.
        while (!closed && ready.length < size) {
          const network = await createSandboxNetwork(options);
          if (closed) await network.close();
          else ready.push(network);
        }
      } catch (error) {
        // No retry loop: the next acquire() tries again, and reports the error itself.
        log.error({ error: (error as Error).message }, 'sandbox network pool refill failed');
      } finally {
        refilling = undefined;
      }
    })();
  };

  refill();
  return {
    get ready() {
      return ready.length;
    },
    async acquire(): Promise<SandboxNetwork> {
      if (closed) throw new Error('the sandbox network pool is closed');
      let network = ready.shift();
      while (network && !stillIntact(network)) {
        log.warn({ sandbox: network.id }, 'pooled sandbox network was damaged; discarding it');
        await network.close().catch(() => {});
        network = ready.shift();
      }
      const handedOut = network ?? (await createSandboxNetwork(options));
      refill();
      return handedOut;
    },
    async close(): Promise<void> {
      closed = true;
      await refilling;
      await Promise.all(ready.splice(0).map((network) => network.close()));
    },
  };
}
