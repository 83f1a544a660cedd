import { readFileSync, writeFileSync } from 'node:fs';
import { PaddockError } from '../../../core/errors.ts';
import {
  DEFAULT_ADDRESS_POOL,
  DEFAULT_PROXY_PORTS,
  overlappingHostRoutes,
  type ProxyPorts,
  parseAddressPool,
  planSlot,
  proxyPortList,
  type SlotPlan,
} from './address-plan.ts';
import { readDropCounters, type DropCounters } from './drop-counters.ts';
import { ensureHostFirewall } from './host-firewall.ts';
import { type BuildOutcome, buildSlot, deleteNetns } from './netns-commands.ts';
import { sandboxRuleset } from './nft-rules.ts';
import { proxyEnvironment } from './proxy-env.ts';
import { releaseSlot, reserveSlot } from './slot-allocator.ts';
import { detachTeardown, removeHostInterface } from './teardown.ts';

/** Options of createSandboxNetwork. Every field is optional; the defaults fail closed. */
export interface SandboxNetworkOptions {
  /** Ports the supervisor listens on at the host address. Default DEFAULT_PROXY_PORTS (14128, 14080, 14443, 14180). */
  readonly ports?: ProxyPorts;
  /** Private IPv4 range split into one /30 per sandbox. Default `10.231.0.0/16`; /12 to /29. */
  readonly addressPool?: string;
  /** Limit for each ip/nft command, milliseconds. Default 10000. */
  readonly commandTimeoutMs?: number;
  /**
   * How long close() lets the kernel free the namespace (and so the veth) before deleting the
   * veth itself, milliseconds. Default 500. Only matters if a process is still inside.
   */
  readonly teardownWaitMs?: number;
}

/**
 * A sandbox's network: a namespace whose only link is a veth to the supervisor, firewalled
 * from outside. Hand `netnsPath` to the launcher (it enters the namespace before dropping
 * privileges and must not create a network namespace of its own), `env` to the sandbox's
 * environment, and the whole object to an EgressListener.
 */
export interface SandboxNetwork {
  /** Unique while the network exists; also its name under /run/netns. */
  readonly id: string;
  /** `/run/netns/<id>`, for setns(2) or `nsenter --net=`. */
  readonly netnsPath: string;
  /** The supervisor's end: the only address the sandbox reaches, and where listeners bind. */
  readonly hostAddress: string;
  /** The sandbox's end (eth0 inside); listeners accept connections only from it. */
  readonly sandboxAddress: string;
  /** Name of the host end (`pdkh<slot>`). */
  readonly hostInterface: string;
  readonly ports: ProxyPorts;
  /** HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (socks5h), NO_PROXY, and their lower-case forms. */
  readonly env: Readonly<Record<string, string>>;
  /** Packets refused by the sandbox-side firewall since creation, per kind. */
  dropCounters(): Promise<DropCounters>;
  /** Removes the namespace and both veth ends. Idempotent; resolves once the veth is gone. */
  close(): Promise<void>;
  /**
   * Removes the namespace and both veth ends from a detached process that outlives this one,
   * and returns at once: for a CLI about to exit (`paddock run`). A no-op after close().
   */
  closeDetached(): void;
}

const MAX_SLOT_ATTEMPTS = 64;

function assertCanBuild(): void {
  if (process.getuid?.() !== 0) {
    throw new PaddockError(
      'PDK_NETWORK_UNAVAILABLE',
      'the sandbox network needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN in the initial namespaces)',
    );
  }
}

/**
 * Creates a sandbox network. Costs one `ip -batch` process (which runs one `sh`, `ip` and
 * `nft` inside the new namespace), plus one `nft` per process for the shared host table.
 * @example
 * const network = await createSandboxNetwork();
 * // launch the sandbox inside network.netnsPath with network.env; later:
 * await network.close();
 */
export async function createSandboxNetwork(options: SandboxNetworkOptions = {}): Promise<SandboxNetwork> {
  assertCanBuild();
  const ports = Object.freeze({ ...(options.ports ?? DEFAULT_PROXY_PORTS) });
  try {
    proxyPortList(ports);
  } catch (error) {
    throw new PaddockError('PDK_NETWORK_SETUP', (error as Error).message, { cause: error });
  }
  const pool = parseAddressPool(options.addressPool ?? DEFAULT_ADDRESS_POOL);
  const overlaps = overlappingHostRoutes(pool);
  if (overlaps.length > 0) {
    throw new PaddockError(
      'PDK_NETWORK_ADDRESS_POOL',
      `sandbox address pool ${pool.cidr} overlaps host routes: ${overlaps.join('; ')}`,
      { details: { cidr: pool.cidr, overlaps } },
    );
  }
  const timeoutMs = options.commandTimeoutMs ?? 10_000;
  await ensureHostFirewall(ports, timeoutMs);

  const teardownWaitMs = options.teardownWaitMs ?? 500;
  for (let attempt = 0; attempt < MAX_SLOT_ATTEMPTS; attempt++) {
    const slot = reserveSlot(pool);
    if (slot === undefined) break;
    const plan = planSlot(pool, slot, process.pid);
    let outcome: BuildOutcome;
    try {
      outcome = await buildSlot(plan, sandboxRuleset(plan.hostAddress, ports), timeoutMs);
    } catch (error) {
      releaseSlot(slot);
      throw error;
    }
    if (outcome.kind === 'slot-busy') {
      // Either the host interface exists (a neighbour's or a crashed run's slot), and the
      // namespace of this name is the one we just made; or that name already existed, and
      // since this process holds no such slot, an earlier process with our pid left it (the
      // sweep would take it for ours and keep it). Both are ours to remove; then try another.
      await deleteNetns(plan.netnsName, timeoutMs);
      releaseSlot(slot);
      continue;
    }
    if (outcome.kind === 'failed') {
      await discard(plan, outcome.createdNetns, timeoutMs);
      throw new PaddockError(
        'PDK_NETWORK_SETUP',
        `sandbox network ${plan.netnsName} could not be built (${outcome.detail})`,
        {
          details: { netns: plan.netnsName, hostInterface: plan.hostInterface },
        },
      );
    }
    try {
      return openNetwork(plan, ports, timeoutMs, teardownWaitMs);
    } catch (error) {
      await discard(plan, true, timeoutMs);
      throw new PaddockError(
        'PDK_NETWORK_SETUP',
        `sandbox network ${plan.netnsName}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  throw new PaddockError('PDK_NETWORK_ADDRESS_EXHAUSTED', `no free /30 slot in ${pool.cidr}`, {
    details: { cidr: pool.cidr },
  });
}

/** Removes what a failed build left behind; best effort, the sweep catches the rest. */
async function discard(plan: SlotPlan, createdNetns: boolean, timeoutMs: number): Promise<void> {
  try {
    if (!createdNetns) return;
    const ifindex = readIfindex(plan.hostInterface);
    await deleteNetns(plan.netnsName, timeoutMs);
    if (ifindex !== undefined) await removeHostInterface(plan.hostInterface, ifindex, 500, timeoutMs);
  } catch {
    // Reported by the caller's error; leftovers carry our pid and are swept once we are gone.
  } finally {
    releaseSlot(plan.slot);
  }
}

function readIfindex(hostInterface: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${hostInterface}/ifindex`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The SandboxNetwork object for a built slot. */
function openNetwork(
  plan: SlotPlan,
  ports: ProxyPorts,
  timeoutMs: number,
  teardownWaitMs: number,
): SandboxNetwork {
  // The host end needs no IPv6 either; a sysctl write from here costs no process.
  writeFileSync(`/proc/sys/net/ipv6/conf/${plan.hostInterface}/disable_ipv6`, '1');
  const ifindex = readIfindex(plan.hostInterface);
  if (ifindex === undefined) throw new Error(`host interface ${plan.hostInterface} vanished after creation`);
  const netnsPath = `/run/netns/${plan.netnsName}`;
  let closed = false;
  let closing: Promise<void> | undefined;
  const teardown = async () => {
    const deleted = await deleteNetns(plan.netnsName, timeoutMs);
    // A missing name is fine (already removed, e.g. by hand); the interface check below decides.
    if (deleted.code !== 0 && !/No such file/.test(deleted.stderr)) {
      throw new PaddockError(
        'PDK_NETWORK_TEARDOWN',
        `ip netns del ${plan.netnsName} failed: ${deleted.stderr.trim()}`,
      );
    }
    await removeHostInterface(plan.hostInterface, ifindex, teardownWaitMs, timeoutMs);
    releaseSlot(plan.slot);
  };
  return Object.freeze({
    id: plan.netnsName,
    netnsPath,
    hostAddress: plan.hostAddress,
    sandboxAddress: plan.sandboxAddress,
    hostInterface: plan.hostInterface,
    ports,
    env: proxyEnvironment(plan.hostAddress, ports),
    dropCounters: () =>
      closed
        ? Promise.reject(new PaddockError('PDK_NETWORK_COUNTERS', `${plan.netnsName} is closed`))
        : readDropCounters(netnsPath, timeoutMs),
    closeDetached: () => {
      if (closed) return;
      closed = true;
      detachTeardown(plan.netnsName, plan.hostInterface, ifindex, teardownWaitMs);
      // A later build in this process that picks the slot while the kernel still frees the old
      // veth meets "File exists" and moves on (slot-busy): releasing now is safe.
      releaseSlot(plan.slot);
    },
    close: () => {
      closed = true;
      // A failed teardown may be retried by calling close() again.
      closing ??= teardown().catch((error: unknown) => {
        closing = undefined;
        throw error;
      });
      return closing;
    },
  });
}
