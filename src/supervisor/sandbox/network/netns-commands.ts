import { PaddockError } from '../../../core/errors.ts';
import { SANDBOX_INTERFACE, type SlotPlan } from './address-plan.ts';
import { type CommandResult, runCommand, summarizeOutput } from './run-command.ts';

// The command lines that build and remove a sandbox network. Building is one `ip -batch`
// process: it creates the namespace, creates the veth with its peer directly inside it, gives
// the host end its address, and — as the batch's last line — runs a short shell inside the
// namespace that closes IPv6, configures the sandbox end and loads the ruleset with one
// `nft -f`. Every extra process costs 1–3 ms on a small VM, so nothing is a separate spawn.

/** Outcome of one build attempt, as the caller must act on it. */
export type BuildOutcome =
  | { readonly kind: 'built' }
  /**
   * The namespace name or the host interface already existed: try another slot. The namespace
   * of this slot's name is ours to delete either way (we just made it, or it is a leftover of
   * an earlier process with our pid).
   */
  | { readonly kind: 'slot-busy' }
  | { readonly kind: 'failed'; readonly createdNetns: boolean; readonly detail: string };

// Runs inside the namespace (as root, before any sandbox process exists). disable_ipv6 on
// `all` also applies to the interfaces that already exist (lo, eth0), so no IPv6 address is
// ever configured; the ruleset's IPv6 drop is the backstop.
// Here-documents rather than pipes: dash feeds a short one through a pipe without forking.
const INSIDE_SCRIPT = [
  'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6',
  'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6',
  'ip -batch - <<PDK_EOF',
  '$PDK_NS_IP_BATCH',
  'PDK_EOF',
  'exec nft -f - <<PDK_EOF',
  '$PDK_NS_NFT',
  'PDK_EOF',
  '',
].join('\n');

function rootBatch(plan: SlotPlan): string {
  return [
    `netns add ${plan.netnsName}`,
    `link add ${plan.hostInterface} type veth peer name ${SANDBOX_INTERFACE} netns ${plan.netnsName}`,
    `link set ${plan.hostInterface} addrgenmode none up`,
    `addr add ${plan.hostAddress}/30 dev ${plan.hostInterface}`,
    `netns exec ${plan.netnsName} /bin/sh -ec 'eval "$PDK_NS_SCRIPT"'`,
    '',
  ].join('\n');
}

function insideBatch(plan: SlotPlan): string {
  return [
    'link set lo up',
    `addr add ${plan.sandboxAddress}/30 dev ${SANDBOX_INTERFACE}`,
    `link set ${SANDBOX_INTERFACE} up`,
    `route add default via ${plan.hostAddress} dev ${SANDBOX_INTERFACE}`,
    '',
  ].join('\n');
}

/** Line of the batch that failed, from iproute2's "Command failed -:N". */
function failedLine(result: CommandResult): number | undefined {
  const match = /Command failed -:(\d+)/.exec(result.stderr);
  return match ? Number(match[1]) : undefined;
}

function spawnFailure(tool: string, error: unknown): PaddockError {
  return new PaddockError('PDK_NETWORK_UNAVAILABLE', `cannot run ${tool}: ${(error as Error).message}`, {
    cause: error,
  });
}

/** Builds the namespace, veth, addresses and sandbox ruleset of one slot. */
export async function buildSlot(
  plan: SlotPlan,
  sandboxNft: string,
  timeoutMs: number,
): Promise<BuildOutcome> {
  let result: CommandResult;
  try {
    result = await runCommand('ip', ['-batch', '-'], {
      input: rootBatch(plan),
      env: { PDK_NS_SCRIPT: INSIDE_SCRIPT, PDK_NS_IP_BATCH: insideBatch(plan), PDK_NS_NFT: sandboxNft },
      timeoutMs,
    });
  } catch (error) {
    throw spawnFailure('ip (iproute2)', error);
  }
  if (result.code === 0) return { kind: 'built' };
  const line = failedLine(result);
  const exists = /File exists|already exists/i.test(result.stderr);
  if ((line === 1 || line === 2) && exists) return { kind: 'slot-busy' };
  // Without a line number ip died before or during line 1 (killed, or not iproute2 at all):
  // whether the namespace exists is unknown, so the caller removes it if it is there.
  return { kind: 'failed', createdNetns: line === undefined || line > 1, detail: summarizeOutput(result) };
}

/**
 * Removes the namespace's name. The kernel frees the namespace, and with it both veth ends,
 * once no process is left inside; close() waits for that and forces it if needed.
 */
export async function deleteNetns(netnsName: string, timeoutMs: number): Promise<CommandResult> {
  try {
    return await runCommand('ip', ['netns', 'del', netnsName], { timeoutMs });
  } catch (error) {
    throw spawnFailure('ip (iproute2)', error);
  }
}

/** Deletes a host veth; its peer in the namespace goes with it, cutting the sandbox off. */
export async function deleteLink(interfaceName: string, timeoutMs: number): Promise<CommandResult> {
  try {
    return await runCommand('ip', ['link', 'del', interfaceName], { timeoutMs });
  } catch (error) {
    throw spawnFailure('ip (iproute2)', error);
  }
}

/** Runs `nft ARGS` inside a namespace (reads only; the ruleset is loaded by buildSlot). */
export async function nftInNetns(
  netnsPath: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<CommandResult> {
  try {
    return await runCommand('nsenter', [`--net=${netnsPath}`, '--', 'nft', ...args], { timeoutMs });
  } catch (error) {
    throw spawnFailure('nsenter (util-linux)', error);
  }
}

/** Loads a ruleset into the supervisor's own namespace. */
export async function nftLoad(ruleset: string, timeoutMs: number): Promise<CommandResult> {
  try {
    return await runCommand('nft', ['-f', '-'], { input: ruleset, timeoutMs });
  } catch (error) {
    throw spawnFailure('nft (nftables)', error);
  }
}
