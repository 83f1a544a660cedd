import type { ProxyPorts } from './address-plan.ts';

// The proxy variables of DESIGN.md §3 for a sandbox. ALL_PROXY uses socks5h so that names are
// resolved by the gateway (there is no resolver inside); NO_PROXY covers only the sandbox's own
// loopback, which never leaves its namespace. Both spellings are set because tools disagree
// (curl reads lower-case http_proxy only, Go and Python read either).

/** Names, in one place, of the variables this module sets. */
export const PROXY_ENV_NAMES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
] as const;

/**
 * @example proxyEnvironment('10.231.0.5', DEFAULT_PROXY_PORTS).HTTPS_PROXY // 'http://10.231.0.5:14128'
 */
export function proxyEnvironment(hostAddress: string, ports: ProxyPorts): Readonly<Record<string, string>> {
  const http = `http://${hostAddress}:${ports.httpProxy}`;
  const socks = `socks5h://${hostAddress}:${ports.socks}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return Object.freeze({
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    ALL_PROXY: socks,
    NO_PROXY: noProxy,
    http_proxy: http,
    https_proxy: http,
    all_proxy: socks,
    no_proxy: noProxy,
  });
}
