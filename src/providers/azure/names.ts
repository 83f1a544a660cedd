import { createHash } from 'node:crypto';
import type { AzureSettings } from './settings.ts';

// Deterministic names: the same workspace always maps to the same resources, so a redeploy in
// incremental mode updates them in place. Workspace ids are hashed because Azure limits names
// (a Windows computer name is at most 15 characters) and ids may hold characters ARM refuses.

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** A UUID-shaped name derived from `text` (version nibble 5, RFC 4122 variant). */
function guidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface WorkspaceNames {
  /** `ws` + 10 hex: the computer name (Windows-safe) and the stem of every resource name. */
  readonly stem: string;
  readonly identity: string;
  readonly nsg: string;
  readonly routeTable: string;
  readonly subnet: string;
  readonly nic: string;
  readonly vm: string;
  readonly dataDisk: string;
  readonly secret: string;
  /** The revocation marker: a Key Vault secret no template renders (azure-provider.ts). */
  readonly revokedMarker: string;
  /** A GUID (role assignment names must be GUIDs), stable per workspace so destroy can delete it. */
  readonly secretReaderAssignment: string;
  readonly deployment: string;
}

export function workspaceNames(settings: AzureSettings, workspaceId: string): WorkspaceNames {
  const stem = `ws${shortHash(workspaceId, 10)}`;
  const base = `${settings.prefix}-${stem}`;
  return {
    stem,
    identity: `${base}-id`,
    nsg: `${base}-nsg`,
    routeTable: `${base}-rt`,
    subnet: `${base}-snet`,
    nic: `${base}-nic`,
    vm: `${base}-vm`,
    dataDisk: `${base}-data`,
    secret: `${base}-channel-identity`,
    revokedMarker: `${base}-revoked`,
    secretReaderAssignment: guidOf(
      `${settings.subscriptionId}/${settings.resourceGroup}/${workspaceId}/secret-reader`,
    ),
    deployment: `${base}`,
  };
}

export interface HubNames {
  readonly hubVnet: string;
  readonly spokeVnet: string;
  readonly firewall: string;
  readonly firewallPublicIp: string;
  readonly firewallPolicy: string;
  readonly keyVault: string;
  readonly keyVaultEndpoint: string;
  readonly privateDnsZone: string;
  readonly deployment: string;
}

export function hubNames(settings: AzureSettings): HubNames {
  const prefix = settings.prefix;
  return {
    hubVnet: `${prefix}-hub-vnet`,
    spokeVnet: `${prefix}-ws-vnet`,
    firewall: `${prefix}-fw`,
    firewallPublicIp: `${prefix}-fw-pip`,
    firewallPolicy: `${prefix}-fw-policy`,
    // Vault names are global (3-24 characters): the subscription and group make it unique.
    keyVault: `${prefix.slice(0, 12)}-kv-${shortHash(`${settings.subscriptionId}/${settings.resourceGroup}`, 8)}`,
    keyVaultEndpoint: `${prefix}-kv-pe`,
    privateDnsZone: 'privatelink.vaultcore.azure.net',
    deployment: `${prefix}-hub`,
  };
}

/** The /28 of the spoke range that workspace slot `slot` gets. */
export function workspaceSubnetPrefix(settings: AzureSettings, slot: number): string {
  const [network = '', bits = ''] = settings.workspaces.addressSpace.split('/');
  const capacity = 2 ** (28 - Number(bits));
  if (!Number.isInteger(slot) || slot < 0 || slot >= capacity)
    throw new RangeError(
      `slot ${slot} is outside the ${capacity} /28 subnets of ${settings.workspaces.addressSpace}`,
    );
  const base = network.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const address = base + slot * 16;
  return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.')}/28`;
}

/** How many workspace subnets the spoke range holds. */
export function workspaceSlots(settings: AzureSettings): number {
  return 2 ** (28 - Number(settings.workspaces.addressSpace.split('/')[1]));
}
