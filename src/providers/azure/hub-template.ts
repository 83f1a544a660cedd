import type { ResolvedBlueprint } from '../../config/index.ts';
import { type ArmResource, type ArmTemplate, resource, resourceIdExpr, template } from './arm.ts';
import { firewallAllowlist, ruleCollections } from './firewall-rules.ts';
import { hubNames } from './names.ts';
import type { AzureSettings } from './settings.ts';

// The hub, deployed once per platform (and again when blueprints change the allowlist): the hub
// and spoke VNets and their peering, Azure Firewall Premium with its policy, Key Vault behind a
// private endpoint with its private DNS zone, and diagnostics to Log Analytics.

const FIREWALL_SUBNET = 'AzureFirewallSubnet';
const ENDPOINT_SUBNET = 'snet-private-endpoints';

function diagnostics(name: string, scope: string, dependsOn: string, workspaceId: string): ArmResource {
  return resource('Microsoft.Insights/diagnosticSettings', name, {
    scope,
    dependsOn: [dependsOn],
    properties: {
      workspaceId,
      logAnalyticsDestinationType: 'Dedicated',
      logs: [{ categoryGroup: 'allLogs', enabled: true }],
      metrics: [{ category: 'AllMetrics', enabled: true }],
    },
  });
}

export function renderHubTemplate(
  settings: AzureSettings,
  blueprints: readonly ResolvedBlueprint[],
): ArmTemplate {
  const names = hubNames(settings);
  const location = settings.location;
  const tags = { 'paddock.dev/role': 'hub' };
  const hubVnetId = resourceIdExpr('Microsoft.Network/virtualNetworks', names.hubVnet);
  const spokeVnetId = resourceIdExpr('Microsoft.Network/virtualNetworks', names.spokeVnet);
  const policyId = resourceIdExpr('Microsoft.Network/firewallPolicies', names.firewallPolicy);
  const vaultId = resourceIdExpr('Microsoft.KeyVault/vaults', names.keyVault);
  const firewallId = resourceIdExpr('Microsoft.Network/azureFirewalls', names.firewall);
  const zoneId = resourceIdExpr('Microsoft.Network/privateDnsZones', names.privateDnsZone);
  const endpointId = resourceIdExpr('Microsoft.Network/privateEndpoints', names.keyVaultEndpoint);
  const channelHost = new URL(settings.channelUrl).hostname;
  const sources = [settings.workspaces.addressSpace];

  const resources: ArmResource[] = [
    resource('Microsoft.Network/virtualNetworks', names.hubVnet, {
      location,
      tags,
      properties: {
        addressSpace: { addressPrefixes: [settings.hub.addressSpace] },
        subnets: [
          { name: FIREWALL_SUBNET, properties: { addressPrefix: settings.hub.firewallSubnet } },
          {
            name: ENDPOINT_SUBNET,
            properties: {
              addressPrefix: settings.hub.privateEndpointSubnet,
              privateEndpointNetworkPolicies: 'Enabled',
              defaultOutboundAccess: false,
            },
          },
        ],
      },
    }),
    // Workspace subnets are children of this VNet, rendered with each workspace.
    resource('Microsoft.Network/virtualNetworks', names.spokeVnet, {
      location,
      tags,
      properties: { addressSpace: { addressPrefixes: [settings.workspaces.addressSpace] } },
    }),
    resource('Microsoft.Network/virtualNetworks/virtualNetworkPeerings', `${names.hubVnet}/to-workspaces`, {
      dependsOn: [hubVnetId, spokeVnetId],
      properties: {
        remoteVirtualNetwork: { id: spokeVnetId },
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: true,
        allowGatewayTransit: false,
        useRemoteGateways: false,
      },
    }),
    resource('Microsoft.Network/virtualNetworks/virtualNetworkPeerings', `${names.spokeVnet}/to-hub`, {
      dependsOn: [hubVnetId, spokeVnetId],
      properties: {
        remoteVirtualNetwork: { id: hubVnetId },
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: false,
        allowGatewayTransit: false,
        useRemoteGateways: false,
      },
    }),
    resource('Microsoft.Network/publicIPAddresses', names.firewallPublicIp, {
      location,
      tags,
      sku: { name: 'Standard', tier: 'Regional' },
      properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' },
    }),
    resource('Microsoft.Network/firewallPolicies', names.firewallPolicy, {
      location,
      tags,
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: { [settings.hub.tlsInspectionIdentityId]: {} },
      },
      properties: {
        sku: { tier: 'Premium' },
        threatIntelMode: 'Deny',
        intrusionDetection: { mode: 'Deny' },
        transportSecurity: {
          certificateAuthority: {
            name: 'paddock-inspection-ca',
            keyVaultSecretId: settings.hub.tlsInspectionCaSecretId,
          },
        },
        // DNS proxy on, so network rules may use FQDNs; workspaces resolve through Azure DNS
        // (168.63.129.16, not subject to NSGs), which sees the private zone linked to the spoke.
        dnsSettings: { enableProxy: true },
      },
    }),
    resource('Microsoft.Network/firewallPolicies/ruleCollectionGroups', `${names.firewallPolicy}/paddock`, {
      dependsOn: [policyId],
      properties: {
        priority: 200,
        ruleCollections: ruleCollections(firewallAllowlist(blueprints), sources, channelHost),
      },
    }),
    resource('Microsoft.Network/azureFirewalls', names.firewall, {
      location,
      tags,
      dependsOn: [
        hubVnetId,
        resourceIdExpr('Microsoft.Network/publicIPAddresses', names.firewallPublicIp),
        resourceIdExpr(
          'Microsoft.Network/firewallPolicies/ruleCollectionGroups',
          names.firewallPolicy,
          'paddock',
        ),
      ],
      properties: {
        sku: { name: 'AZFW_VNet', tier: 'Premium' },
        firewallPolicy: { id: policyId },
        ipConfigurations: [
          {
            name: 'ipconfig',
            properties: {
              subnet: {
                id: resourceIdExpr(
                  'Microsoft.Network/virtualNetworks/subnets',
                  names.hubVnet,
                  FIREWALL_SUBNET,
                ),
              },
              publicIPAddress: {
                id: resourceIdExpr('Microsoft.Network/publicIPAddresses', names.firewallPublicIp),
              },
            },
          },
        ],
      },
    }),
    resource('Microsoft.KeyVault/vaults', names.keyVault, {
      location,
      tags,
      properties: {
        tenantId: settings.tenantId,
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        publicNetworkAccess: 'Disabled',
        networkAcls: { defaultAction: 'Deny', bypass: 'None' },
      },
    }),
    resource('Microsoft.Network/privateDnsZones', names.privateDnsZone, {
      location: 'global',
      tags,
      properties: {},
    }),
    resource('Microsoft.Network/privateDnsZones/virtualNetworkLinks', `${names.privateDnsZone}/hub`, {
      location: 'global',
      dependsOn: [zoneId, hubVnetId],
      properties: { virtualNetwork: { id: hubVnetId }, registrationEnabled: false },
    }),
    resource('Microsoft.Network/privateDnsZones/virtualNetworkLinks', `${names.privateDnsZone}/workspaces`, {
      location: 'global',
      dependsOn: [zoneId, spokeVnetId],
      properties: { virtualNetwork: { id: spokeVnetId }, registrationEnabled: false },
    }),
    resource('Microsoft.Network/privateEndpoints', names.keyVaultEndpoint, {
      location,
      tags,
      dependsOn: [vaultId, hubVnetId],
      properties: {
        subnet: {
          id: resourceIdExpr('Microsoft.Network/virtualNetworks/subnets', names.hubVnet, ENDPOINT_SUBNET),
        },
        privateLinkServiceConnections: [
          { name: 'vault', properties: { privateLinkServiceId: vaultId, groupIds: ['vault'] } },
        ],
      },
    }),
    resource('Microsoft.Network/privateEndpoints/privateDnsZoneGroups', `${names.keyVaultEndpoint}/default`, {
      dependsOn: [endpointId, zoneId],
      properties: {
        privateDnsZoneConfigs: [{ name: 'vault', properties: { privateDnsZoneId: zoneId } }],
      },
    }),
    diagnostics(
      'paddock-firewall',
      `Microsoft.Network/azureFirewalls/${names.firewall}`,
      firewallId,
      settings.logAnalyticsWorkspaceId,
    ),
    diagnostics(
      'paddock-key-vault',
      `Microsoft.KeyVault/vaults/${names.keyVault}`,
      vaultId,
      settings.logAnalyticsWorkspaceId,
    ),
  ];
  return {
    ...template(resources),
    outputs: {
      firewallPrivateIp: {
        type: 'string',
        value: `[reference(${firewallId.slice(1, -1)}).ipConfigurations[0].properties.privateIPAddress]`,
      },
    },
  };
}
