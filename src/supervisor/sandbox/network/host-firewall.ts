import { PaddockError } from '../../../core/errors.ts';
import { type ProxyPorts, proxyPortList } from './address-plan.ts';
import { nftLoad } from './netns-commands.ts';
import { hostRuleset } from './nft-rules.ts';
import { summarizeOutput } from './run-command.ts';

// The host-side table is shared by every sandbox on the host and matches interfaces by name
// pattern, so it is loaded once per process and port set, not once per sandbox: that keeps
// an `nft` process off each sandbox's start. Reloading is atomic and idempotent (see
// hostRuleset), so several supervisor processes on one host can each ensure it.

const ensured = new Map<string, Promise<void>>();

/**
 * Ensures the host-side table (inet paddock_host) is loaded with these ports. Fails closed:
 * a sandbox network is never handed out while this has not succeeded in this process.
 * @param refresh reload even if this process loaded it before (the pool does, in the
 *   background, so a table removed by `nft flush ruleset` comes back).
 */
export function ensureHostFirewall(ports: ProxyPorts, timeoutMs: number, refresh = false): Promise<void> {
  const key = proxyPortList(ports).join(',');
  const known = ensured.get(key);
  if (known && !refresh) return known;
  const loading = (async () => {
    const result = await nftLoad(hostRuleset(ports), timeoutMs);
    if (result.code !== 0) {
      throw new PaddockError(
        'PDK_NETWORK_SETUP',
        `host firewall table could not be loaded (${summarizeOutput(result)})`,
      );
    }
  })();
  ensured.set(key, loading);
  // A failure is not remembered: the next sandbox tries again rather than failing forever.
  loading.catch(() => {
    if (ensured.get(key) === loading) ensured.delete(key);
  });
  return loading;
}
