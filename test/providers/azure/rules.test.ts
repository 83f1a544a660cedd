import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../../src/core/errors.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import {
  type ArmResource,
  type ArmTemplate,
  type AzureRender,
  checkCustomData,
  checkDiagnostics,
  checkFirewallRules,
  checkFirewallSku,
  checkKeyVault,
  checkNoPublicIp,
  checkRoutes,
  checkSecurityGroups,
  checkVirtualMachines,
  firewallAllowlist,
  parseAzureSettings,
  RULE_COLLECTIONS,
  renderAzure,
  renderWorkspaceTemplate,
} from '../../../src/providers/azure/index.ts';
import { fixtureInput, fixtureRender, fixtureSettings } from './render-fixture.ts';

// The rules the ARM schemas cannot express, one named test each: what the render holds, and a
// broken template (or input) refused with the rule's own code. The renderer runs the same checks
// (render.ts), so nothing that breaks them is written or deployed.

type Json = Record<string, unknown>;

const settings = fixtureSettings();

function clone<T>(value: T): T {
  return structuredClone(value);
}

function only(template: ArmTemplate, type: string): ArmResource {
  const found = template.resources.filter((entry) => entry.type === type);
  assert.equal(found.length, 1, `one ${type}`);
  return found[0] as ArmResource;
}

function props(entry: ArmResource): Json {
  return entry['properties'] as Json;
}

function refuses(code: ErrorCode, check: () => void, pattern?: RegExp): void {
  assert.throws(check, (error: unknown) => {
    assert.ok(isPaddockError(error, code), `expected ${code}, got ${String(error)}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

async function linuxTemplate(): Promise<ArmTemplate> {
  const render = await fixtureRender();
  return clone(render.workspaces.get('carol@example.com') as ArmTemplate);
}

async function rendered(): Promise<AzureRender> {
  return fixtureRender();
}

describe('azure rules', () => {
  it('no workspace NIC has a public IP address', async () => {
    for (const template of (await rendered()).workspaces.values()) {
      for (const config of props(only(template, 'Microsoft.Network/networkInterfaces'))[
        'ipConfigurations'
      ] as Json[])
        assert.equal((config['properties'] as Json)['publicIPAddress'], undefined);
      assert.equal(
        template.resources.filter((r) => r.type === 'Microsoft.Network/publicIPAddresses').length,
        0,
      );
      checkNoPublicIp(template);
    }
    const broken = await linuxTemplate();
    const config = (
      props(only(broken, 'Microsoft.Network/networkInterfaces'))['ipConfigurations'] as Json[]
    )[0] as Json;
    (config['properties'] as Json)['publicIPAddress'] = { id: '/subscriptions/x/publicIPAddresses/ip' };
    refuses('PDK_AZURE_PUBLIC_IP', () => checkNoPublicIp(broken), /publicIPAddress/);
    const withIp = await linuxTemplate();
    (withIp.resources as ArmResource[]).push({
      type: 'Microsoft.Network/publicIPAddresses',
      apiVersion: '2025-07-01',
      name: 'ip',
    });
    refuses('PDK_AZURE_PUBLIC_IP', () => checkNoPublicIp(withIp));
  });

  it("the route table sends 0.0.0.0/0 to the firewall's private IP with BGP propagation disabled", async () => {
    const template = await linuxTemplate();
    const table = props(only(template, 'Microsoft.Network/routeTables'));
    assert.equal(table['disableBgpRoutePropagation'], true);
    assert.deepEqual(table['routes'], [
      {
        name: 'all-to-firewall',
        properties: {
          addressPrefix: '0.0.0.0/0',
          nextHopType: 'VirtualAppliance',
          nextHopIpAddress: '10.60.0.4',
        },
      },
    ]);
    checkRoutes(template, settings);

    const bgp = clone(template);
    props(only(bgp, 'Microsoft.Network/routeTables'))['disableBgpRoutePropagation'] = false;
    refuses('PDK_AZURE_ROUTE_INVALID', () => checkRoutes(bgp, settings), /disableBgpRoutePropagation/);

    const hop = clone(template);
    const route = (props(only(hop, 'Microsoft.Network/routeTables'))['routes'] as Json[])[0] as Json;
    (route['properties'] as Json)['nextHopIpAddress'] = '10.60.0.5';
    refuses('PDK_AZURE_ROUTE_INVALID', () => checkRoutes(hop, settings), /10\.60\.0\.4/);

    const internet = clone(template);
    const internetRoute = (
      props(only(internet, 'Microsoft.Network/routeTables'))['routes'] as Json[]
    )[0] as Json;
    (internetRoute['properties'] as Json)['nextHopType'] = 'Internet';
    refuses('PDK_AZURE_ROUTE_INVALID', () => checkRoutes(internet, settings));

    const bypass = clone(template);
    (props(only(bypass, 'Microsoft.Network/routeTables'))['routes'] as Json[]).push({
      name: 'bypass',
      properties: { addressPrefix: '140.82.112.0/20', nextHopType: 'Internet' },
    });
    refuses('PDK_AZURE_ROUTE_INVALID', () => checkRoutes(bypass, settings), /exactly one route/);

    const detached = clone(template);
    delete props(only(detached, 'Microsoft.Network/virtualNetworks/subnets'))['routeTable'];
    refuses('PDK_AZURE_ROUTE_INVALID', () => checkRoutes(detached, settings), /no route table/);
  });

  it('the NSG denies every corporate CIDR both ways before any allow, and allows nothing inbound', async () => {
    const template = await linuxTemplate();
    const rules = props(only(template, 'Microsoft.Network/networkSecurityGroups'))['securityRules'] as Json[];
    for (const cidr of settings.corporateCidrs) {
      for (const [direction, field] of [
        ['Inbound', 'sourceAddressPrefix'],
        ['Outbound', 'destinationAddressPrefix'],
      ] as const)
        assert.ok(
          rules.some((rule) => {
            const p = rule['properties'] as Json;
            return p['direction'] === direction && p['access'] === 'Deny' && p[field] === cidr;
          }),
          `${direction} deny ${cidr}`,
        );
    }
    assert.ok(
      !rules.some(
        (rule) =>
          (rule['properties'] as Json)['direction'] === 'Inbound' &&
          (rule['properties'] as Json)['access'] === 'Allow',
      ),
    );
    checkSecurityGroups(template, settings);

    const missing = clone(template);
    const group = props(only(missing, 'Microsoft.Network/networkSecurityGroups'));
    group['securityRules'] = (group['securityRules'] as Json[]).filter(
      (rule) => rule['name'] !== 'deny-corporate-out-1',
    );
    refuses('PDK_AZURE_NSG_INVALID', () => checkSecurityGroups(missing, settings), /172\.16\.0\.0\/12/);

    const inbound = clone(template);
    (props(only(inbound, 'Microsoft.Network/networkSecurityGroups'))['securityRules'] as Json[]).push({
      name: 'allow-ssh',
      properties: {
        priority: 150,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: '*',
        sourcePortRange: '*',
        destinationAddressPrefix: '*',
        destinationPortRange: '22',
      },
    });
    refuses(
      'PDK_AZURE_NSG_INVALID',
      () => checkSecurityGroups(inbound, settings),
      /allow-ssh allows inbound/,
    );

    const early = clone(template);
    const earlyRules = props(only(early, 'Microsoft.Network/networkSecurityGroups'))[
      'securityRules'
    ] as Json[];
    const internet = earlyRules.find((rule) => rule['name'] === 'allow-internet-out') as Json;
    (internet['properties'] as Json)['priority'] = 150;
    refuses('PDK_AZURE_NSG_INVALID', () => checkSecurityGroups(early, settings), /ahead of every Allow/);

    const unattached = clone(template);
    delete props(only(unattached, 'Microsoft.Network/networkInterfaces'))['networkSecurityGroup'];
    refuses(
      'PDK_AZURE_NSG_INVALID',
      () => checkSecurityGroups(unattached, settings),
      /no network security group/,
    );
  });

  it('the NSG never uses the VirtualNetwork tag (with a 0.0.0.0/0 route it would match everything)', async () => {
    const template = await linuxTemplate();
    const rules = props(only(template, 'Microsoft.Network/networkSecurityGroups'))['securityRules'] as Json[];
    for (const rule of rules) {
      const p = rule['properties'] as Json;
      assert.notEqual(p['destinationAddressPrefix'], 'VirtualNetwork');
      assert.notEqual(p['sourceAddressPrefix'], 'VirtualNetwork');
    }
  });

  it('Key Vault has publicNetworkAccess Disabled and is reached through a private endpoint with a linked private DNS zone', async () => {
    const { hub } = await rendered();
    const vault = props(only(hub, 'Microsoft.KeyVault/vaults'));
    assert.equal(vault['publicNetworkAccess'], 'Disabled');
    assert.deepEqual(vault['networkAcls'], { defaultAction: 'Deny', bypass: 'None' });
    assert.equal(only(hub, 'Microsoft.Network/privateDnsZones').name, 'privatelink.vaultcore.azure.net');
    checkKeyVault(hub);

    const open = clone(hub);
    props(only(open, 'Microsoft.KeyVault/vaults'))['publicNetworkAccess'] = 'Enabled';
    refuses('PDK_AZURE_KEY_VAULT_PUBLIC', () => checkKeyVault(open), /publicNetworkAccess/);
    const allow = clone(hub);
    props(only(allow, 'Microsoft.KeyVault/vaults'))['networkAcls'] = { defaultAction: 'Allow' };
    refuses('PDK_AZURE_KEY_VAULT_PUBLIC', () => checkKeyVault(allow), /defaultAction/);
    const noEndpoint = {
      ...hub,
      resources: hub.resources.filter((r) => r.type !== 'Microsoft.Network/privateEndpoints'),
    };
    refuses('PDK_AZURE_KEY_VAULT_PUBLIC', () => checkKeyVault(noEndpoint), /private endpoint/);
    const noLink = {
      ...hub,
      resources: hub.resources.filter(
        (r) =>
          r.type !== 'Microsoft.Network/privateDnsZones/virtualNetworkLinks' ||
          !r.name.endsWith('/workspaces'),
      ),
    };
    refuses('PDK_AZURE_KEY_VAULT_PUBLIC', () => checkKeyVault(noLink), /linked/);
  });

  it('custom data is at most 64 KB of base64, and the renderer refuses a desired state that would exceed it', async () => {
    for (const template of (await rendered()).workspaces.values()) {
      const vm = props(only(template, 'Microsoft.Compute/virtualMachines'));
      assert.ok(String((vm['osProfile'] as Json)['customData']).length <= 65_536);
      checkCustomData(template);
    }
    const input = await fixtureInput();
    // Random bytes do not compress: 60 KB of them cannot fit once gzip and base64 are applied.
    const huge = { path: 'policies/huge.cedar', content: randomBytes(60_000).toString('base64') };
    refuses(
      'PDK_AZURE_CUSTOM_DATA_TOO_LARGE',
      () => renderAzure({ ...input, files: [...input.files, huge] }),
      /65536/,
    );
  });

  it('the firewall policy and firewall are Premium with the inspection CA when TLS inspection is used', async () => {
    const { hub } = await rendered();
    assert.equal((props(only(hub, 'Microsoft.Network/firewallPolicies'))['sku'] as Json)['tier'], 'Premium');
    assert.equal((props(only(hub, 'Microsoft.Network/azureFirewalls'))['sku'] as Json)['tier'], 'Premium');
    checkFirewallSku(hub);

    const standardPolicy = clone(hub);
    props(only(standardPolicy, 'Microsoft.Network/firewallPolicies'))['sku'] = { tier: 'Standard' };
    refuses('PDK_AZURE_FIREWALL_SKU', () => checkFirewallSku(standardPolicy), /Premium/);
    const standardFirewall = clone(hub);
    props(only(standardFirewall, 'Microsoft.Network/azureFirewalls'))['sku'] = {
      name: 'AZFW_VNet',
      tier: 'Standard',
    };
    refuses('PDK_AZURE_FIREWALL_SKU', () => checkFirewallSku(standardFirewall), /firewall sku/);
    const noCa = clone(hub);
    delete props(only(noCa, 'Microsoft.Network/firewallPolicies'))['transportSecurity'];
    refuses('PDK_AZURE_FIREWALL_SKU', () => checkFirewallSku(noCa), /certificateAuthority/);
  });

  it('every blueprint FQDN appears in exactly one rule collection, inspected exactly when its service has L7 rules', async () => {
    const input = await fixtureInput();
    const allowlist = firewallAllowlist([...input.blueprints.values()]);
    const { hub } = renderAzure(input);
    const group = props(only(hub, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'));
    const collections = group['ruleCollections'] as Json[];
    const places = new Map<string, string[]>();
    for (const collection of collections)
      for (const rule of collection['rules'] as Json[])
        for (const fqdn of (rule['targetFqdns'] ?? []) as string[])
          places.set(fqdn, [
            ...(places.get(fqdn) ?? []),
            `${String(collection['name'])}:${String(rule['terminateTLS'])}`,
          ]);
    assert.deepEqual(Object.fromEntries(places), {
      'paddock.example.com': [`${RULE_COLLECTIONS.control}:false`],
      'api.github.com': [`${RULE_COLLECTIONS.inspected}:true`],
      'codeload.github.com': [`${RULE_COLLECTIONS.inspected}:true`],
      'github.com': [`${RULE_COLLECTIONS.inspected}:true`],
      'npm.mirror.example.com': [`${RULE_COLLECTIONS.inspected}:true`],
      'warehouse.data.example.com': [`${RULE_COLLECTIONS.inspected}:true`],
      'pypi.internal.example.com': [`${RULE_COLLECTIONS.passthrough}:false`],
      '*.files.example.com': [`${RULE_COLLECTIONS.passthrough}:false`],
    });
    const channel = 'paddock.example.com';
    checkFirewallRules(hub, allowlist, channel);

    const twice = clone(hub);
    const twiceCollections = props(only(twice, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'))[
      'ruleCollections'
    ] as Json[];
    ((twiceCollections[2] as Json)['rules'] as Json[]).push({
      ...(((twiceCollections[1] as Json)['rules'] as Json[])[0] as Json),
      terminateTLS: false,
    });
    refuses(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      () => checkFirewallRules(twice, allowlist, channel),
      /api\.github\.com.*2 application rules/,
    );

    const dropped = clone(hub);
    const droppedCollections = props(
      only(dropped, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'),
    )['ruleCollections'] as Json[];
    (droppedCollections[2] as Json)['rules'] = [];
    refuses(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      () => checkFirewallRules(dropped, allowlist, channel),
      /files\.example\.com \(service pypi-mirror\) appears in 0 application rules/,
    );

    const extra = clone(hub);
    const extraCollections = props(only(extra, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'))[
      'ruleCollections'
    ] as Json[];
    (((extraCollections[2] as Json)['rules'] as Json[])[0] as Json)['targetFqdns'] = [
      'pypi.internal.example.com',
      '*.files.example.com',
      'pastebin.com',
    ];
    refuses(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      () => checkFirewallRules(extra, allowlist, channel),
      /pastebin\.com is allowed but no blueprint/,
    );

    const uninspected = clone(hub);
    const uninspectedCollections = props(
      only(uninspected, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'),
    )['ruleCollections'] as Json[];
    for (const rule of (uninspectedCollections[1] as Json)['rules'] as Json[]) rule['terminateTLS'] = false;
    refuses(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      () => checkFirewallRules(uninspected, allowlist, channel),
      /must be TLS-inspected/,
    );

    const inspectedChannel = clone(hub);
    const channelCollections = props(
      only(inspectedChannel, 'Microsoft.Network/firewallPolicies/ruleCollectionGroups'),
    )['ruleCollections'] as Json[];
    (((channelCollections[0] as Json)['rules'] as Json[])[0] as Json)['terminateTLS'] = true;
    refuses(
      'PDK_AZURE_FIREWALL_RULES_INVALID',
      () => checkFirewallRules(inspectedChannel, allowlist, channel),
      /channel host/,
    );
  });

  it('IP-literal hosts become network rules, never application rules', () => {
    const blueprint = {
      name: 'lit',
      blueprint: { spec: { services: [{ name: 'ntp', hosts: ['203.0.113.7'], ports: [443] }] } },
    } as unknown as Parameters<typeof firewallAllowlist>[0][number];
    const allowlist = firewallAllowlist([blueprint]);
    assert.deepEqual(allowlist.hosts, []);
    assert.deepEqual(allowlist.ipLiterals, [{ address: '203.0.113.7', ports: [443], service: 'ntp' }]);
  });

  it('workspace VMs are Trusted Launch (secure boot, vTPM) from a gallery image version, with a user-assigned identity', async () => {
    for (const template of (await rendered()).workspaces.values()) {
      const vm = only(template, 'Microsoft.Compute/virtualMachines');
      assert.deepEqual(props(vm)['securityProfile'], {
        securityType: 'TrustedLaunch',
        uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
      });
      assert.equal((vm['identity'] as Json)['type'], 'UserAssigned');
      checkVirtualMachines(template);
    }
    const standard = await linuxTemplate();
    props(only(standard, 'Microsoft.Compute/virtualMachines'))['securityProfile'] = {
      securityType: 'Standard',
    };
    refuses('PDK_AZURE_VM_INVALID', () => checkVirtualMachines(standard), /Trusted Launch/);
    const noVtpm = await linuxTemplate();
    props(only(noVtpm, 'Microsoft.Compute/virtualMachines'))['securityProfile'] = {
      securityType: 'TrustedLaunch',
      uefiSettings: { secureBootEnabled: true, vTpmEnabled: false },
    };
    refuses('PDK_AZURE_VM_INVALID', () => checkVirtualMachines(noVtpm));
    const marketplace = await linuxTemplate();
    const storage = props(only(marketplace, 'Microsoft.Compute/virtualMachines'))['storageProfile'] as Json;
    storage['imageReference'] = {
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: 'latest',
    };
    refuses('PDK_AZURE_VM_INVALID', () => checkVirtualMachines(marketplace), /Compute Gallery/);
    const password = await linuxTemplate();
    const osProfile = props(only(password, 'Microsoft.Compute/virtualMachines'))['osProfile'] as Json;
    (osProfile['linuxConfiguration'] as Json)['disablePasswordAuthentication'] = false;
    refuses('PDK_AZURE_VM_INVALID', () => checkVirtualMachines(password), /disablePasswordAuthentication/);
  });

  it('the firewall and the vault send their logs to the Log Analytics workspace', async () => {
    const { hub } = await rendered();
    checkDiagnostics(hub, settings);
    const none = { ...hub, resources: hub.resources.filter((r) => r.name !== 'paddock-firewall') };
    refuses('PDK_AZURE_DIAGNOSTICS_MISSING', () => checkDiagnostics(none, settings), /azureFirewalls pdk-fw/);
    const elsewhere = clone(hub);
    const diag = elsewhere.resources.find((r) => r.name === 'paddock-key-vault') as ArmResource;
    props(diag)['workspaceId'] =
      '/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/other';
    refuses('PDK_AZURE_DIAGNOSTICS_MISSING', () => checkDiagnostics(elsewhere, settings), /vaults/);
  });

  it('settings are refused when the address plan is inconsistent', () => {
    const raw = JSON.parse(JSON.stringify(settings)) as Json;
    (raw['hub'] as Json)['firewallPrivateIp'] = '10.60.1.4';
    refuses(
      'PDK_AZURE_SETTINGS_INVALID',
      () => parseAzureSettings(raw),
      /hub\.firewallPrivateIp: is not inside hub\.firewallSubnet/,
    );
    const wide = JSON.parse(JSON.stringify(settings)) as Json;
    (wide['hub'] as Json)['firewallSubnet'] = '10.60.0.0/27';
    refuses('PDK_AZURE_SETTINGS_INVALID', () => parseAzureSettings(wide), /\/26/);
    const plain = JSON.parse(JSON.stringify(settings)) as Json;
    plain['channelUrl'] = 'ws://paddock.example.com/channel';
    refuses('PDK_AZURE_SETTINGS_INVALID', () => parseAzureSettings(plain), /wss/);
  });

  it('two workspaces never share a subnet slot', async () => {
    const input = await fixtureInput();
    const [first, second] = input.workspaces;
    assert.ok(first && second);
    refuses(
      'PDK_AZURE_SETTINGS_INVALID',
      () => renderAzure({ ...input, workspaces: [first, { ...second, slot: first.slot }] }),
      /already held/,
    );
    refuses(
      'PDK_AZURE_SETTINGS_INVALID',
      () => renderAzure({ ...input, workspaces: [{ ...first, slot: 256 }] }),
      /outside/,
    );
  });

  it('a Windows workspace keeps every network rule of the Linux one (route table, NSG, subnet, NIC, identity)', async () => {
    const input = await fixtureInput();
    const linuxProfile = input.state.profiles.get('analyst-azure')?.value;
    const windowsProfile = input.state.profiles.get('dev-windows')?.value;
    assert.ok(linuxProfile && windowsProfile);
    const common = {
      id: 'ws-same',
      owner: 'dan@example.com',
      blueprint: 'coding-agent',
      slot: 7,
      files: input.files,
    };
    const linux = renderWorkspaceTemplate(settings, {
      ...common,
      profileName: 'analyst-azure',
      profile: linuxProfile,
    });
    const windows = renderWorkspaceTemplate(settings, {
      ...common,
      profileName: 'dev-windows',
      profile: windowsProfile,
    });
    for (const type of [
      'Microsoft.Network/routeTables',
      'Microsoft.Network/networkSecurityGroups',
      'Microsoft.Network/virtualNetworks/subnets',
      'Microsoft.Network/networkInterfaces',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.KeyVault/vaults/secrets',
      'Microsoft.Authorization/roleAssignments',
    ])
      assert.deepEqual(only(windows, type), only(linux, type), `${type} is identical on Windows`);
    const linuxVm = only(linux, 'Microsoft.Compute/virtualMachines');
    const windowsVm = only(windows, 'Microsoft.Compute/virtualMachines');
    for (const field of ['securityProfile', 'networkProfile'])
      assert.deepEqual(props(windowsVm)[field], props(linuxVm)[field], `VM ${field}`);
    assert.deepEqual(windowsVm['identity'], linuxVm['identity']);
    // Every rule passes on the Windows render too.
    for (const check of [checkNoPublicIp, checkCustomData, checkVirtualMachines]) check(windows);
    checkRoutes(windows, settings);
    checkSecurityGroups(windows, settings);
    // The bootstrap is PowerShell run by the CustomScript extension, and dials the same channel.
    const extension = only(windows, 'Microsoft.Compute/virtualMachines/extensions');
    assert.equal(props(extension)['type'], 'CustomScriptExtension');
    assert.match(String((props(extension)['settings'] as Json)['commandToExecute']), /CustomData\.bin/);
    assert.equal((props(windowsVm)['osProfile'] as Json)['adminPassword'], "[parameters('adminCredential')]");
    assert.equal(((props(windowsVm)['osProfile'] as Json)['computerName'] as string).length <= 15, true);
    const script = Buffer.from(
      String((props(windowsVm)['osProfile'] as Json)['customData']),
      'base64',
    ).toString('utf8');
    assert.match(script, /Start-ScheduledTask -TaskName 'PaddockSupervisor'/);
    assert.match(script, /vault\.azure\.net\/secrets\//);
  });
});
