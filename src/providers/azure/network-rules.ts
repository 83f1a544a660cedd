import type { AzureSettings } from './settings.ts';

// The per-workspace network boundary: a route table that sends everything to the hub firewall,
// and an NSG on the workspace's subnet and NIC.
//
// Inbound: nothing. The supervisor dials the control plane's channel (outbound, wss, through
// the firewall), and terminals, SSH mode (`paddock connect --stdio`) and audit all ride that
// connection, so the "broker path" needs no inbound rule at all. Azure's default inbound rules
// (VirtualNetwork, AzureLoadBalancer) are overridden by a deny-all at the lowest priority;
// platform traffic (DHCP, DNS, IMDS, health via 168.63.129.16) is not subject to NSGs.
//
// Outbound: the Key Vault private endpoint (443) is allowed first (it sits in the hub, whose
// range may be inside a corporate range); then every corporate range is denied; then the
// spoke (other workspaces) and the rest of the hub are denied; the rest is allowed here and filtered by
// the firewall, which every packet reaches through the route table.

export interface SecurityRule {
  readonly name: string;
  readonly properties: {
    readonly priority: number;
    readonly direction: 'Inbound' | 'Outbound';
    readonly access: 'Allow' | 'Deny';
    readonly protocol: '*' | 'Tcp' | 'Udp';
    readonly sourceAddressPrefix: string;
    readonly sourcePortRange: string;
    readonly destinationAddressPrefix: string;
    readonly destinationPortRange: string;
    readonly description: string;
  };
}

function rule(
  name: string,
  priority: number,
  direction: 'Inbound' | 'Outbound',
  access: 'Allow' | 'Deny',
  source: string,
  destination: string,
  description: string,
  protocol: '*' | 'Tcp' = '*',
  port = '*',
): SecurityRule {
  return {
    name,
    properties: {
      priority,
      direction,
      access,
      protocol,
      sourceAddressPrefix: source,
      sourcePortRange: '*',
      destinationAddressPrefix: destination,
      destinationPortRange: port,
      description,
    },
  };
}

/** The NSG rules of a workspace whose subnet is `subnetPrefix`. */
export function workspaceSecurityRules(settings: AzureSettings, subnetPrefix: string): SecurityRule[] {
  const rules: SecurityRule[] = [];
  settings.corporateCidrs.forEach((cidr, index) => {
    rules.push(
      rule(
        `deny-corporate-in-${index}`,
        200 + index,
        'Inbound',
        'Deny',
        cidr,
        '*',
        `corporate range ${cidr}`,
      ),
    );
  });
  rules.push(rule('deny-all-in', 4096, 'Inbound', 'Deny', '*', '*', 'no inbound: the supervisor dials out'));
  rules.push(
    rule(
      'allow-key-vault-endpoint',
      100,
      'Outbound',
      'Allow',
      subnetPrefix,
      settings.hub.privateEndpointSubnet,
      'Key Vault private endpoint (channel identity)',
      'Tcp',
      '443',
    ),
  );
  settings.corporateCidrs.forEach((cidr, index) => {
    rules.push(
      rule(
        `deny-corporate-out-${index}`,
        200 + index,
        'Outbound',
        'Deny',
        '*',
        cidr,
        `corporate range ${cidr}`,
      ),
    );
  });
  // Explicit ranges, not the VirtualNetwork tag: that tag also covers the prefixes of user-defined
  // routes, so with the 0.0.0.0/0 route it would match (and deny) everything.
  rules.push(
    rule(
      'deny-spoke-out',
      4000,
      'Outbound',
      'Deny',
      '*',
      settings.workspaces.addressSpace,
      'no lateral traffic',
    ),
  );
  rules.push(
    rule('deny-hub-out', 4001, 'Outbound', 'Deny', '*', settings.hub.addressSpace, 'hub: endpoint only'),
  );
  rules.push(
    rule(
      'allow-internet-out',
      4010,
      'Outbound',
      'Allow',
      subnetPrefix,
      'Internet',
      'filtered by the hub firewall',
    ),
  );
  rules.push(rule('deny-all-out', 4096, 'Outbound', 'Deny', '*', '*', 'default deny'));
  return rules;
}

/** The one route of a workspace route table: everything to the firewall. */
export function workspaceRoutes(settings: AzureSettings): Record<string, unknown>[] {
  return [
    {
      name: 'all-to-firewall',
      properties: {
        addressPrefix: '0.0.0.0/0',
        nextHopType: 'VirtualAppliance',
        nextHopIpAddress: settings.hub.firewallPrivateIp,
      },
    },
  ];
}
