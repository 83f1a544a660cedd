import { HOST_INTERFACE_PREFIX, type ProxyPorts, proxyPortList, SANDBOX_INTERFACE } from './address-plan.ts';

// The two nftables rulesets of a sandbox network, as text for one `nft -f` each.
//
// Inside the sandbox's namespace (table inet paddock): output is default-drop; the only new
// connections allowed are TCP to the host address on the proxy ports; TCP 80/443 to any
// address is DNATed there first, so clients that ignore HTTP_PROXY still meet the gateway.
// Refusals are counted per kind and answered (TCP reset, ICMP admin-prohibited) so agents fail
// fast instead of hanging on timeouts; ICMP and unknown protocols are silently dropped.
// The agent has no capability over this namespace (it is owned by the initial user namespace),
// so it can read neither the rules nor change them.
//
// In the supervisor's namespace (table inet paddock_host, shared by every sandbox on the host):
// packets arriving on any pdkh* interface may only open TCP connections to the proxy ports of
// the address of the very interface they arrived on, and only to a socket bound to that
// address (not a wildcard listener: if the supervisor dies, a host service on 0.0.0.0 at the
// same port must not become the sandbox's way out). Nothing from or to a sandbox is forwarded,
// whatever net.ipv4.ip_forward says. This table is the backstop if the inner one is ever lost.

export const SANDBOX_TABLE = 'paddock';
export const HOST_TABLE = 'paddock_host';

/** Drop counters of the sandbox table; `dns` also counts (tcp or udp) port 53, before the kind. */
export const DROP_COUNTER_KINDS = ['tcp', 'udp', 'icmp', 'other', 'ipv6', 'dns'] as const;
export type DropCounterKind = (typeof DROP_COUNTER_KINDS)[number];

/** The sandbox-side ruleset for one sandbox (applied inside its namespace). */
export function sandboxRuleset(hostAddress: string, ports: ProxyPorts): string {
  const allowed = proxyPortList(ports).join(', ');
  return `table inet ${SANDBOX_TABLE} {
	counter drop_tcp {}
	counter drop_udp {}
	counter drop_icmp {}
	counter drop_other {}
	counter drop_ipv6 {}
	counter drop_dns {}

	chain transparent {
		type nat hook output priority -100; policy accept;
		oif "lo" return
		meta nfproto ipv4 tcp dport 80 dnat ip to ${hostAddress}:${ports.transparentHttp}
		meta nfproto ipv4 tcp dport 443 dnat ip to ${hostAddress}:${ports.transparentHttps}
	}

	chain output {
		type filter hook output priority 0; policy drop;
		meta nfproto ipv6 counter name drop_ipv6 drop
		oif "lo" accept
		ct state established,related accept
		oifname "${SANDBOX_INTERFACE}" ip daddr ${hostAddress} tcp dport { ${allowed} } ct state new accept
		meta l4proto { tcp, udp } th dport 53 counter name drop_dns
		meta l4proto tcp counter name drop_tcp reject with tcp reset
		meta l4proto udp counter name drop_udp reject with icmpx type admin-prohibited
		meta l4proto icmp counter name drop_icmp drop
		counter name drop_other drop
	}

	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
		ct state established,related accept
	}

	chain forward {
		type filter hook forward priority 0; policy drop;
	}
}
`;
}

/**
 * The host-side ruleset, idempotent and atomic: chains are flushed and refilled inside one
 * transaction (no instant without rules), and the port set only grows, so supervisors with
 * different port choices on one host never remove each other's ports.
 */
export function hostRuleset(ports: ProxyPorts): string {
  const table = `inet ${HOST_TABLE}`;
  const sandboxes = `"${HOST_INTERFACE_PREFIX}*"`;
  return `add table ${table}
add set ${table} proxy_ports { type inet_service; }
add element ${table} proxy_ports { ${proxyPortList(ports).join(', ')} }
add counter ${table} dropped
add chain ${table} input { type filter hook input priority -10; policy accept; }
add chain ${table} forward { type filter hook forward priority -10; policy accept; }
add chain ${table} from_sandbox
flush chain ${table} input
flush chain ${table} forward
flush chain ${table} from_sandbox
add rule ${table} input iifname ${sandboxes} jump from_sandbox
add rule ${table} forward iifname ${sandboxes} counter name dropped drop
add rule ${table} forward oifname ${sandboxes} counter name dropped drop
add rule ${table} from_sandbox ct state established,related accept
add rule ${table} from_sandbox fib saddr . iif oif missing counter name dropped drop
add rule ${table} from_sandbox meta nfproto ipv4 tcp dport @proxy_ports fib daddr . iif type local socket wildcard 0 accept
add rule ${table} from_sandbox meta l4proto tcp counter name dropped reject with tcp reset
add rule ${table} from_sandbox counter name dropped drop
`;
}
