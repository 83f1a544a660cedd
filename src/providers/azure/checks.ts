import { type ErrorCode, PaddockError } from '../../core/errors.ts';
import type { ArmResource, ArmTemplate } from './arm.ts';
import { CUSTOM_DATA_MAX_BASE64 } from './custom-data.ts';
import type { FirewallAllowlist } from './firewall-rules.ts';
import type { AzureSettings } from './settings.ts';

// The rules the ARM schemas cannot express. The renderer runs them on everything it renders,
// so a template that breaks the network boundary is never written or deployed; the tests feed
// each one a broken template. Each throws its own code naming the resource and the rule.

type Json = Record<string, unknown>;

const GALLERY_IMAGE_VERSION =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+\/images\/[^/]+\/versions\/\d+\.\d+\.\d+$/;

function fail(code: ErrorCode, resource: ArmResource | undefined, rule: string): never {
  const where = resource ? `${resource.type} ${resource.name}: ` : '';
  throw new PaddockError(code, `${where}${rule}`);
}

function ofType(armTemplate: ArmTemplate, type: string): ArmResource[] {
  return armTemplate.resources.filter((entry) => entry.type.toLowerCase() === type.toLowerCase());
}

function props(entry: ArmResource): Json {
  return (entry['properties'] ?? {}) as Json;
}

/** No workspace NIC has a public IP, and the workspace template creates none. */
export function checkNoPublicIp(armTemplate: ArmTemplate): void {
  for (const ip of ofType(armTemplate, 'Microsoft.Network/publicIPAddresses'))
    fail('PDK_AZURE_PUBLIC_IP', ip, 'a workspace deployment may not create a public IP address');
  for (const nic of ofType(armTemplate, 'Microsoft.Network/networkInterfaces')) {
    for (const config of (props(nic)['ipConfigurations'] ?? []) as Json[]) {
      if ((config['properties'] as Json | undefined)?.['publicIPAddress'] !== undefined)
        fail('PDK_AZURE_PUBLIC_IP', nic, `ipConfiguration ${String(config['name'])} has a publicIPAddress`);
    }
  }
}

/** Each route table sends 0.0.0.0/0 (and only that) to the firewall, with BGP propagation off; each subnet uses one. */
export function checkRoutes(armTemplate: ArmTemplate, settings: AzureSettings): void {
  const tables = ofType(armTemplate, 'Microsoft.Network/routeTables');
  for (const table of tables) {
    const properties = props(table);
    if (properties['disableBgpRoutePropagation'] !== true)
      fail(
        'PDK_AZURE_ROUTE_INVALID',
        table,
        'disableBgpRoutePropagation must be true (BGP routes could bypass the firewall)',
      );
    const routes = (properties['routes'] ?? []) as Json[];
    const route = (routes[0]?.['properties'] ?? {}) as Json;
    if (
      routes.length !== 1 ||
      route['addressPrefix'] !== '0.0.0.0/0' ||
      route['nextHopType'] !== 'VirtualAppliance' ||
      route['nextHopIpAddress'] !== settings.hub.firewallPrivateIp
    )
      fail(
        'PDK_AZURE_ROUTE_INVALID',
        table,
        `must hold exactly one route: 0.0.0.0/0 to VirtualAppliance ${settings.hub.firewallPrivateIp} (the firewall's private IP)`,
      );
  }
  for (const subnet of ofType(armTemplate, 'Microsoft.Network/virtualNetworks/subnets')) {
    const id = (props(subnet)['routeTable'] as Json | undefined)?.['id'];
    if (typeof id !== 'string' || !tables.some((table) => id.includes(`'${table.name}'`)))
      fail('PDK_AZURE_ROUTE_INVALID', subnet, 'the workspace subnet has no route table of this deployment');
  }
}

interface Rule {
  name: string;
  priority: number;
  direction: string;
  access: string;
  source: string;
  destination: string;
}

function securityRules(nsg: ArmResource): Rule[] {
  return ((props(nsg)['securityRules'] ?? []) as Json[]).map((entry) => {
    const p = (entry['properties'] ?? {}) as Json;
    return {
      name: String(entry['name']),
      priority: Number(p['priority']),
      direction: String(p['direction']),
      access: String(p['access']),
      source: String(p['sourceAddressPrefix'] ?? ''),
      destination: String(p['destinationAddressPrefix'] ?? ''),
    };
  });
}

/**
 * Each NSG denies every corporate range in both directions before any allow of that
 * direction, allows nothing inbound, ends with deny-all both ways, and is on the subnet and NIC.
 */
export function checkSecurityGroups(armTemplate: ArmTemplate, settings: AzureSettings): void {
  const groups = ofType(armTemplate, 'Microsoft.Network/networkSecurityGroups');
  for (const nsg of groups) {
    const rules = securityRules(nsg);
    const inboundAllow = rules.find((rule) => rule.direction === 'Inbound' && rule.access === 'Allow');
    if (inboundAllow)
      fail(
        'PDK_AZURE_NSG_INVALID',
        nsg,
        `rule ${inboundAllow.name} allows inbound traffic; the supervisor dials out, nothing may dial in`,
      );
    for (const direction of ['Inbound', 'Outbound'] as const) {
      const field = direction === 'Inbound' ? 'source' : 'destination';
      const firstAllow = Math.min(
        ...rules
          .filter(
            (rule) =>
              rule.direction === direction && rule.access === 'Allow' && !isEndpointAllow(rule, settings),
          )
          .map((rule) => rule.priority),
      );
      for (const cidr of settings.corporateCidrs) {
        const deny = rules.find(
          (rule) =>
            rule.direction === direction &&
            rule.access === 'Deny' &&
            rule[field] === cidr &&
            rule.priority < firstAllow,
        );
        if (!deny)
          fail(
            'PDK_AZURE_NSG_INVALID',
            nsg,
            `no ${direction} Deny for corporate range ${cidr} ahead of every Allow`,
          );
      }
      const last = rules.find(
        (rule) =>
          rule.direction === direction &&
          rule.priority === 4096 &&
          rule.access === 'Deny' &&
          rule.source === '*' &&
          rule.destination === '*',
      );
      if (!last) fail('PDK_AZURE_NSG_INVALID', nsg, `no ${direction} deny-all rule at priority 4096`);
    }
  }
  const attached = (entry: ArmResource, field: string): boolean => {
    const id = (props(entry)[field] as Json | undefined)?.['id'];
    return typeof id === 'string' && groups.some((nsg) => id.includes(`'${nsg.name}'`));
  };
  for (const entry of [
    ...ofType(armTemplate, 'Microsoft.Network/virtualNetworks/subnets'),
    ...ofType(armTemplate, 'Microsoft.Network/networkInterfaces'),
  ]) {
    if (!attached(entry, 'networkSecurityGroup'))
      fail('PDK_AZURE_NSG_INVALID', entry, 'has no network security group of this deployment');
  }
}

/** The one allow that may precede the corporate denies: TCP 443 to the private endpoint subnet. */
function isEndpointAllow(rule: Rule, settings: AzureSettings): boolean {
  return (
    rule.direction === 'Outbound' &&
    rule.destination === settings.hub.privateEndpointSubnet &&
    rule.name === 'allow-key-vault-endpoint'
  );
}

/** The vault is closed to public networks and reachable through a private endpoint whose DNS zone is linked. */
export function checkKeyVault(hub: ArmTemplate): void {
  const vaults = ofType(hub, 'Microsoft.KeyVault/vaults');
  if (vaults.length === 0) fail('PDK_AZURE_KEY_VAULT_PUBLIC', undefined, 'the hub has no Key Vault');
  for (const vault of vaults) {
    const properties = props(vault);
    if (properties['publicNetworkAccess'] !== 'Disabled')
      fail('PDK_AZURE_KEY_VAULT_PUBLIC', vault, 'publicNetworkAccess must be Disabled');
    if ((properties['networkAcls'] as Json | undefined)?.['defaultAction'] !== 'Deny')
      fail('PDK_AZURE_KEY_VAULT_PUBLIC', vault, 'networkAcls.defaultAction must be Deny');
    const endpoint = ofType(hub, 'Microsoft.Network/privateEndpoints').find((pe) =>
      ((props(pe)['privateLinkServiceConnections'] ?? []) as Json[]).some((connection) =>
        String((connection['properties'] as Json)['privateLinkServiceId']).includes(`'${vault.name}'`),
      ),
    );
    if (!endpoint) fail('PDK_AZURE_KEY_VAULT_PUBLIC', vault, 'no private endpoint connects to the vault');
  }
  const zone = ofType(hub, 'Microsoft.Network/privateDnsZones').find(
    (entry) => entry.name === 'privatelink.vaultcore.azure.net',
  );
  if (!zone)
    fail('PDK_AZURE_KEY_VAULT_PUBLIC', undefined, 'no privatelink.vaultcore.azure.net private DNS zone');
  const links = ofType(hub, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks').filter((link) =>
    link.name.startsWith(`${zone.name}/`),
  );
  if (links.length < 2)
    fail('PDK_AZURE_KEY_VAULT_PUBLIC', zone, 'the zone must be linked to the hub and the workspace VNets');
  const group = ofType(hub, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
  if (group.length === 0)
    fail(
      'PDK_AZURE_KEY_VAULT_PUBLIC',
      zone,
      'the private endpoint registers no DNS record (privateDnsZoneGroups)',
    );
}

/** Custom data fits Azure's limit. */
export function checkCustomData(armTemplate: ArmTemplate): void {
  for (const vm of ofType(armTemplate, 'Microsoft.Compute/virtualMachines')) {
    const data = (props(vm)['osProfile'] as Json | undefined)?.['customData'];
    if (typeof data === 'string' && data.length > CUSTOM_DATA_MAX_BASE64)
      fail(
        'PDK_AZURE_CUSTOM_DATA_TOO_LARGE',
        vm,
        `custom data is ${data.length} base64 characters (at most ${CUSTOM_DATA_MAX_BASE64})`,
      );
  }
}

function allRuleCollections(hub: ArmTemplate): Json[] {
  return ofType(hub, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups').flatMap(
    (group) => (props(group)['ruleCollections'] ?? []) as Json[],
  );
}

/** TLS inspection (any rule with terminateTLS) needs the Premium policy and firewall, and the inspection CA. */
export function checkFirewallSku(hub: ArmTemplate): void {
  const inspects = allRuleCollections(hub).some((collection) =>
    ((collection['rules'] ?? []) as Json[]).some((rule) => rule['terminateTLS'] === true),
  );
  if (!inspects) return;
  for (const policy of ofType(hub, 'Microsoft.Network/firewallPolicies')) {
    const properties = props(policy);
    if ((properties['sku'] as Json | undefined)?.['tier'] !== 'Premium')
      fail('PDK_AZURE_FIREWALL_SKU', policy, 'rules use terminateTLS, so sku.tier must be Premium');
    if ((properties['transportSecurity'] as Json | undefined)?.['certificateAuthority'] === undefined)
      fail(
        'PDK_AZURE_FIREWALL_SKU',
        policy,
        'rules use terminateTLS, so transportSecurity.certificateAuthority must be set',
      );
  }
  for (const firewall of ofType(hub, 'Microsoft.Network/azureFirewalls')) {
    if ((props(firewall)['sku'] as Json | undefined)?.['tier'] !== 'Premium')
      fail(
        'PDK_AZURE_FIREWALL_SKU',
        firewall,
        'the policy inspects TLS, so the firewall sku.tier must be Premium',
      );
  }
}

/**
 * Every blueprint host is in exactly one application rule of one rule collection, inspected
 * exactly when the allowlist says so; no other name is allowed except the channel's host.
 */
export function checkFirewallRules(
  hub: ArmTemplate,
  allowlist: FirewallAllowlist,
  channelHost: string,
): void {
  const seen = new Map<string, { collection: string; inspect: boolean }[]>();
  for (const collection of allRuleCollections(hub)) {
    for (const rule of (collection['rules'] ?? []) as Json[]) {
      for (const fqdn of (rule['targetFqdns'] ?? []) as string[]) {
        seen.set(fqdn, [
          ...(seen.get(fqdn) ?? []),
          { collection: String(collection['name']), inspect: rule['terminateTLS'] === true },
        ]);
      }
    }
  }
  for (const host of allowlist.hosts) {
    const places = seen.get(host.fqdn) ?? [];
    if (places.length !== 1)
      fail(
        'PDK_AZURE_FIREWALL_RULES_INVALID',
        undefined,
        `${host.fqdn} (service ${host.service}) appears in ${places.length} application rules (${places.map((p) => p.collection).join(', ') || 'none'}); it must appear in exactly one`,
      );
    if (places[0]?.inspect !== host.inspect)
      fail(
        'PDK_AZURE_FIREWALL_RULES_INVALID',
        undefined,
        `${host.fqdn} (service ${host.service}) must ${host.inspect ? '' : 'not '}be TLS-inspected`,
      );
  }
  const expected = new Set([...allowlist.hosts.map((host) => host.fqdn), channelHost]);
  for (const fqdn of seen.keys()) {
    if (!expected.has(fqdn))
      fail(
        'PDK_AZURE_FIREWALL_RULES_INVALID',
        undefined,
        `${fqdn} is allowed but no blueprint service lists it`,
      );
  }
  if ((seen.get(channelHost) ?? []).some((place) => place.inspect))
    fail(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      undefined,
      `the channel host ${channelHost} must not be TLS-inspected`,
    );
}

/** Trusted Launch with secure boot and vTPM, a gallery image version, a user-assigned identity, no password login on Linux. */
export function checkVirtualMachines(armTemplate: ArmTemplate): void {
  for (const vm of ofType(armTemplate, 'Microsoft.Compute/virtualMachines')) {
    const properties = props(vm);
    const security = (properties['securityProfile'] ?? {}) as Json;
    const uefi = (security['uefiSettings'] ?? {}) as Json;
    if (
      security['securityType'] !== 'TrustedLaunch' ||
      uefi['secureBootEnabled'] !== true ||
      uefi['vTpmEnabled'] !== true
    )
      fail('PDK_AZURE_VM_INVALID', vm, 'must be Trusted Launch with secureBootEnabled and vTpmEnabled');
    const image = (
      (properties['storageProfile'] as Json | undefined)?.['imageReference'] as Json | undefined
    )?.['id'];
    if (typeof image !== 'string' || !GALLERY_IMAGE_VERSION.test(image))
      fail('PDK_AZURE_VM_INVALID', vm, 'imageReference.id must be an Azure Compute Gallery image version id');
    const identity = (vm['identity'] ?? {}) as Json;
    if (identity['type'] !== 'UserAssigned')
      fail('PDK_AZURE_VM_INVALID', vm, 'must run with (only) its user-assigned managed identity');
    const linux = (properties['osProfile'] as Json | undefined)?.['linuxConfiguration'] as Json | undefined;
    if (linux && linux['disablePasswordAuthentication'] !== true)
      fail('PDK_AZURE_VM_INVALID', vm, 'linuxConfiguration.disablePasswordAuthentication must be true');
  }
}

/** The firewall and the vault each send their logs to the Log Analytics workspace. */
export function checkDiagnostics(hub: ArmTemplate, settings: AzureSettings): void {
  const settingsResources = ofType(hub, 'Microsoft.Insights/diagnosticSettings');
  for (const target of [
    ...ofType(hub, 'Microsoft.Network/azureFirewalls'),
    ...ofType(hub, 'Microsoft.KeyVault/vaults'),
  ]) {
    const found = settingsResources.find(
      (entry) =>
        entry.scope === `${target.type}/${target.name}` &&
        props(entry)['workspaceId'] === settings.logAnalyticsWorkspaceId &&
        ((props(entry)['logs'] ?? []) as Json[]).some(
          (log) => log['categoryGroup'] === 'allLogs' && log['enabled'] === true,
        ),
    );
    if (!found)
      fail(
        'PDK_AZURE_DIAGNOSTICS_MISSING',
        target,
        'no diagnosticSettings sends allLogs to the Log Analytics workspace',
      );
  }
}

/** Every rule on a workspace template. */
export function checkWorkspaceTemplate(armTemplate: ArmTemplate, settings: AzureSettings): void {
  checkNoPublicIp(armTemplate);
  checkRoutes(armTemplate, settings);
  checkSecurityGroups(armTemplate, settings);
  checkCustomData(armTemplate);
  checkVirtualMachines(armTemplate);
}

/** Every rule on the hub template. */
export function checkHubTemplate(
  hub: ArmTemplate,
  settings: AzureSettings,
  allowlist: FirewallAllowlist,
): void {
  checkKeyVault(hub);
  checkFirewallSku(hub);
  checkFirewallRules(hub, allowlist, new URL(settings.channelUrl).hostname);
  checkDiagnostics(hub, settings);
}
