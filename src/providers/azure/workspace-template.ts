import type { Profile } from '../../config/index.ts';
import { checkReleaseAnchor, type ReleaseAnchor } from '../release-anchor.ts';
import { type ArmResource, type ArmTemplate, resource, resourceIdExpr, template } from './arm.ts';
import {
  type BootstrapInput,
  customData,
  type DesiredStateFile,
  linuxCloudInit,
  windowsBootstrap,
} from './custom-data.ts';
import { hubNames, workspaceNames, workspaceSubnetPrefix } from './names.ts';
import { workspaceRoutes, workspaceSecurityRules } from './network-rules.ts';
import type { AzureSettings } from './settings.ts';

// One workspace: its identity, channel-identity secret, subnet with route table and NSG, NIC
// (no public IP) and Trusted Launch VM from the gallery image version its profile pins.

/** Built-in role "Key Vault Secrets User" (read secret values). */
const KEY_VAULT_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const ADMIN_USER = 'paddockadmin';

export interface WorkspaceRenderInput {
  readonly id: string;
  readonly owner: string;
  readonly profileName: string;
  readonly profile: Profile;
  readonly blueprint: string;
  /** Which /28 of the spoke range the workspace gets (stable for its lifetime). */
  readonly slot: number;
  /** Desired-state files the supervisor's sandbox follows. */
  readonly files: readonly DesiredStateFile[];
  /** Attach the existing data disk (a rebuild) instead of creating it (the first deployment). */
  readonly attachDataDisk?: boolean;
  /** The signed release channel the supervisor follows, with the channel's root (docs/releases.md). */
  readonly releases?: ReleaseAnchor;
}

/**
 * A VM size from the profile: the smallest Dsv3 (4 GiB per vCPU, Gen2, Trusted Launch capable)
 * that fits both its CPUs and memory. settings.vmSize overrides it (e.g. a newer series).
 */
export function vmSizeFor(profile: Profile, settings: AzureSettings): string {
  if (settings.vmSize) return settings.vmSize;
  const { cpus, memoryMiB } = profile.spec.size;
  const fit = [2, 4, 8, 16, 32, 64].find((n) => n >= cpus && n * 4096 >= memoryMiB);
  return `Standard_D${fit ?? 64}s_v3`;
}

/** Parameters every workspace deployment takes (filled by AzureProvider at deploy time). */
export const WORKSPACE_PARAMETERS = {
  channelIdentity: {
    type: 'securestring',
    metadata: { description: "The supervisor's channel identity (JSON); stored as a Key Vault secret only." },
  },
  adminCredential: {
    type: 'securestring',
    metadata: {
      description:
        'Linux: an SSH public key whose private half was discarded. Windows: a random password never stored. Nobody logs in with it: there is no inbound path.',
    },
  },
} as const;

export function renderWorkspaceTemplate(settings: AzureSettings, input: WorkspaceRenderInput): ArmTemplate {
  const names = workspaceNames(settings, input.id);
  const hub = hubNames(settings);
  const location = settings.location;
  const os = input.profile.spec.os;
  const subnetPrefix = workspaceSubnetPrefix(settings, input.slot);
  const tags = { 'paddock.dev/workspace': input.id, 'paddock.dev/owner': input.owner };
  const identityId = resourceIdExpr('Microsoft.ManagedIdentity/userAssignedIdentities', names.identity);
  const nsgId = resourceIdExpr('Microsoft.Network/networkSecurityGroups', names.nsg);
  const routeTableId = resourceIdExpr('Microsoft.Network/routeTables', names.routeTable);
  const subnetId = resourceIdExpr('Microsoft.Network/virtualNetworks/subnets', hub.spokeVnet, names.subnet);
  const nicId = resourceIdExpr('Microsoft.Network/networkInterfaces', names.nic);
  const secretId = resourceIdExpr('Microsoft.KeyVault/vaults/secrets', hub.keyVault, names.secret);
  const vmId = resourceIdExpr('Microsoft.Compute/virtualMachines', names.vm);
  const managedIdentityId = `/subscriptions/${settings.subscriptionId}/resourceGroups/${settings.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}`;
  const bootstrap: BootstrapInput = {
    workspaceId: input.id,
    channelUrl: settings.channelUrl,
    blueprint: input.blueprint,
    profile: input.profileName,
    files: input.files,
    identitySecretUrl: `https://${hub.keyVault}.vault.azure.net/secrets/${names.secret}`,
    managedIdentityId,
    ...(input.releases ? { releases: checkReleaseAnchor(input.releases, `workspace ${input.id}`) } : {}),
  };
  const document = os === 'windows' ? windowsBootstrap(bootstrap) : linuxCloudInit(bootstrap);

  const osProfile =
    os === 'windows'
      ? {
          computerName: names.stem,
          adminUsername: ADMIN_USER,
          adminPassword: "[parameters('adminCredential')]",
          customData: customData(document),
          windowsConfiguration: {
            provisionVMAgent: true,
            enableAutomaticUpdates: true,
            patchSettings: { patchMode: 'AutomaticByPlatform' },
          },
        }
      : {
          computerName: names.stem,
          adminUsername: ADMIN_USER,
          customData: customData(document),
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            provisionVMAgent: true,
            ssh: {
              publicKeys: [
                {
                  path: `/home/${ADMIN_USER}/.ssh/authorized_keys`,
                  keyData: "[parameters('adminCredential')]",
                },
              ],
            },
            patchSettings: { patchMode: 'AutomaticByPlatform', assessmentMode: 'AutomaticByPlatform' },
          },
        };

  const resources: ArmResource[] = [
    resource('Microsoft.ManagedIdentity/userAssignedIdentities', names.identity, {
      location,
      tags,
      properties: { isolationScope: 'None' },
    }),
    resource('Microsoft.KeyVault/vaults/secrets', `${hub.keyVault}/${names.secret}`, {
      tags,
      properties: { value: "[parameters('channelIdentity')]", contentType: 'application/json' },
    }),
    // The VM's identity may read its own secret, nothing else in the vault.
    resource('Microsoft.Authorization/roleAssignments', names.secretReaderAssignment, {
      scope: `Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.secret}`,
      dependsOn: [secretId, identityId],
      properties: {
        roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${KEY_VAULT_SECRETS_USER}')]`,
        principalId: `[reference(${identityId.slice(1, -1)}, '2024-11-30').principalId]`,
        principalType: 'ServicePrincipal',
      },
    }),
    resource('Microsoft.Network/networkSecurityGroups', names.nsg, {
      location,
      tags,
      properties: { securityRules: workspaceSecurityRules(settings, subnetPrefix) },
    }),
    resource('Microsoft.Network/routeTables', names.routeTable, {
      location,
      tags,
      properties: { disableBgpRoutePropagation: true, routes: workspaceRoutes(settings) },
    }),
    resource('Microsoft.Network/virtualNetworks/subnets', `${hub.spokeVnet}/${names.subnet}`, {
      dependsOn: [nsgId, routeTableId],
      properties: {
        addressPrefix: subnetPrefix,
        networkSecurityGroup: { id: nsgId },
        routeTable: { id: routeTableId },
        defaultOutboundAccess: false,
      },
    }),
    resource('Microsoft.Network/networkInterfaces', names.nic, {
      location,
      tags,
      dependsOn: [subnetId, nsgId],
      properties: {
        enableIPForwarding: false,
        networkSecurityGroup: { id: nsgId },
        ipConfigurations: [
          {
            name: 'ipconfig',
            properties: { primary: true, privateIPAllocationMethod: 'Dynamic', subnet: { id: subnetId } },
          },
        ],
      },
    }),
    resource('Microsoft.Compute/virtualMachines', names.vm, {
      location,
      tags,
      dependsOn: [nicId, identityId],
      identity: { type: 'UserAssigned', userAssignedIdentities: { [identityId]: {} } },
      properties: {
        hardwareProfile: { vmSize: vmSizeFor(input.profile, settings) },
        securityProfile: {
          securityType: 'TrustedLaunch',
          uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
        },
        storageProfile: {
          imageReference: { id: input.profile.spec.image ?? '' },
          // The OS disk is disposable (rebuild replaces it); the data disk outlives the VM.
          osDisk: {
            createOption: 'FromImage',
            deleteOption: 'Delete',
            managedDisk: { storageAccountType: 'Premium_LRS' },
          },
          dataDisks: [
            input.attachDataDisk
              ? {
                  lun: 0,
                  name: names.dataDisk,
                  createOption: 'Attach',
                  deleteOption: 'Detach',
                  managedDisk: { id: resourceIdExpr('Microsoft.Compute/disks', names.dataDisk) },
                }
              : {
                  lun: 0,
                  name: names.dataDisk,
                  createOption: 'Empty',
                  deleteOption: 'Detach',
                  diskSizeGB: input.profile.spec.size.diskGiB,
                  managedDisk: { storageAccountType: 'Premium_LRS' },
                },
          ],
        },
        osProfile,
        networkProfile: {
          networkInterfaces: [{ id: nicId, properties: { primary: true, deleteOption: 'Delete' } }],
        },
        diagnosticsProfile: { bootDiagnostics: { enabled: true } },
      },
    }),
  ];
  if (os === 'windows') {
    resources.push(
      resource('Microsoft.Compute/virtualMachines/extensions', `${names.vm}/paddock-bootstrap`, {
        location,
        tags,
        dependsOn: [vmId],
        properties: {
          publisher: 'Microsoft.Compute',
          type: 'CustomScriptExtension',
          typeHandlerVersion: '1.10',
          autoUpgradeMinorVersion: true,
          // Windows leaves custom data at C:\AzureData\CustomData.bin without running it. The
          // command holds no secret (the identity is fetched from Key Vault), so it is in settings.
          protectedSettings: {},
          settings: {
            commandToExecute:
              'powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "New-Item -ItemType Directory -Force C:\\ProgramData\\Paddock | Out-Null; Copy-Item C:\\AzureData\\CustomData.bin C:\\ProgramData\\Paddock\\bootstrap.ps1 -Force; & C:\\ProgramData\\Paddock\\bootstrap.ps1"',
          },
        },
      }),
    );
  }
  return template(resources, WORKSPACE_PARAMETERS);
}
