import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ENV } from '../../../src/core/env.ts';
import {
  type ArmResource,
  type ArmTemplate,
  renderAzure,
  renderedFiles,
  workspaceNames,
} from '../../../src/providers/azure/index.ts';
import { ArmSchemas } from './arm-schemas.ts';
import {
  FIXTURE_DIR,
  fixtureInput,
  fixtureRender,
  fixtureSettings,
  GOLDEN_DIR,
  RELEASES_GOLDEN_DIR,
  releasesFixtureInput,
  SETTINGS_FILE,
} from './render-fixture.ts';

// The renderer's output: golden files (PADDOCK_UPDATE_GOLDEN=1 rewrites them), and every rendered
// resource valid against its official ARM resource schema in ../shared/schemas/azure.

const schemas = new ArmSchemas();

/** Types the schema snapshot has no file for; each gets its own structural test below. */
const WITHOUT_SCHEMA = new Set([
  'Microsoft.Insights/diagnosticSettings',
  'Microsoft.Authorization/roleAssignments',
]);

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

/** The main golden files: everything under golden/ but the releases/ set. */
function mainGoldenFiles(): string[] {
  return listFiles(GOLDEN_DIR).filter((file) => !file.startsWith('releases/'));
}

function checkGolden(files: Map<string, string>, dir = GOLDEN_DIR): void {
  const listed = () => (dir === GOLDEN_DIR ? mainGoldenFiles() : existsSync(dir) ? listFiles(dir) : []);
  if (process.env[ENV.updateGolden] === '1') {
    for (const file of listed()) rmSync(join(dir, file));
    for (const [file, text] of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
  }
  assert.deepEqual(
    listed(),
    [...files.keys()].sort(),
    'golden file list (PADDOCK_UPDATE_GOLDEN=1 to update)',
  );
  for (const [file, text] of files)
    assert.equal(
      text,
      readFileSync(join(dir, file), 'utf8'),
      `golden ${file} (PADDOCK_UPDATE_GOLDEN=1 to update)`,
    );
}

function allResources(render: {
  hub: ArmTemplate;
  workspaces: ReadonlyMap<string, ArmTemplate>;
}): ArmResource[] {
  return [
    ...render.hub.resources,
    ...[...render.workspaces.values()].flatMap((template) => template.resources),
  ];
}

describe('azure renderer', () => {
  it('matches the golden files (hub, one Linux and one Windows workspace)', async () => {
    checkGolden(renderedFiles(fixtureSettings(), await fixtureRender()));
  });

  it('matches the golden files of workspaces that follow a release channel (golden/releases: the root pinned in custom data)', async () => {
    const input = await releasesFixtureInput();
    const files = renderedFiles(input.settings, renderAzure(input));
    // Only the workspaces differ from the main golden files: the hub does not carry releases.
    checkGolden(
      new Map([...files].filter(([file]) => file.startsWith('users/') && file !== 'users/index.json')),
      RELEASES_GOLDEN_DIR,
    );
  });

  it('is deterministic: workspaces in any order give the same bytes', async () => {
    const input = await fixtureInput();
    const forward = renderedFiles(input.settings, renderAzure(input));
    const backward = renderedFiles(
      input.settings,
      renderAzure({ ...input, workspaces: [...input.workspaces].reverse() }),
    );
    assert.deepEqual([...backward].sort(), [...forward].sort());
  });

  it('renders every resource at an API version whose official schema it validates against', async () => {
    const render = await fixtureRender();
    const checked = new Set<string>();
    for (const resource of allResources(render)) {
      if (WITHOUT_SCHEMA.has(resource.type)) {
        assert.equal(schemas.definitionOf(resource.type, resource.apiVersion), undefined);
        continue;
      }
      assert.deepEqual(schemas.validate(resource), [], `${resource.type} ${resource.name}`);
      checked.add(resource.type);
    }
    // Every type the design names is among those checked.
    for (const type of [
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Compute/virtualMachines/extensions',
      'Microsoft.Network/networkInterfaces',
      'Microsoft.Network/routeTables',
      'Microsoft.Network/networkSecurityGroups',
      'Microsoft.Network/virtualNetworks/subnets',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.Network/azureFirewalls',
      'Microsoft.Network/firewallPolicies',
      'Microsoft.Network/firewallPolicies/ruleCollectionGroups',
      'Microsoft.KeyVault/vaults',
      'Microsoft.KeyVault/vaults/secrets',
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      'Microsoft.Network/virtualNetworks/virtualNetworkPeerings',
    ])
      assert.ok(checked.has(type), `${type} was rendered and validated`);
  });

  it('schema validation is strict: a misspelt field or a wrong enum value fails it', async () => {
    const render = await fixtureRender();
    const table =
      render.hub.resources.length > 0
        ? allResources(render).find((r) => r.type === 'Microsoft.Network/routeTables')
        : undefined;
    assert.ok(table);
    const properties = table['properties'] as Record<string, unknown>;
    const misspelt = { ...table, properties: { ...properties, disableBgpRoutePropagaton: true } };
    assert.ok(schemas.validate(misspelt).some((error) => error.includes('disableBgpRoutePropagaton')));
    const vm = allResources(render).find((r) => r.type === 'Microsoft.Compute/virtualMachines');
    assert.ok(vm);
    const vmProperties = vm['properties'] as Record<string, unknown>;
    const wrongEnum = {
      ...vm,
      properties: { ...vmProperties, securityProfile: { securityType: 'TrustedLaunchPlus' } },
    };
    assert.notDeepEqual(schemas.validate(wrongEnum), []);
  });

  it('diagnostic settings (no schema in the snapshot) target the firewall and vault and send allLogs', async () => {
    const { hub } = await fixtureRender();
    const settings = fixtureSettings();
    const diagnostics = hub.resources.filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings');
    assert.deepEqual(diagnostics.map((r) => r.scope).sort(), [
      'Microsoft.KeyVault/vaults/pdk-kv-30a08f7a',
      'Microsoft.Network/azureFirewalls/pdk-fw',
    ]);
    for (const entry of diagnostics) {
      assert.equal(entry.apiVersion, '2021-05-01-preview');
      const properties = entry['properties'] as { workspaceId: string; logs: unknown[] };
      assert.equal(properties.workspaceId, settings.logAnalyticsWorkspaceId);
      assert.deepEqual(properties.logs, [{ categoryGroup: 'allLogs', enabled: true }]);
    }
  });

  it('role assignments (no schema in the snapshot) give each VM identity Key Vault Secrets User on its own secret only', async () => {
    const render = await fixtureRender();
    for (const [id, template] of render.workspaces) {
      const names = workspaceNames(fixtureSettings(), id);
      const assignments = template.resources.filter(
        (r) => r.type === 'Microsoft.Authorization/roleAssignments',
      );
      assert.equal(assignments.length, 1);
      const [assignment] = assignments;
      assert.ok(assignment);
      assert.equal(assignment.scope, `Microsoft.KeyVault/vaults/pdk-kv-30a08f7a/secrets/${names.secret}`);
      const properties = assignment['properties'] as Record<string, string>;
      assert.match(properties['roleDefinitionId'] ?? '', /4633458b-17de-408a-b874-0445c86b69e6/);
      assert.match(properties['principalId'] ?? '', new RegExp(names.identity));
      assert.equal(properties['principalType'], 'ServicePrincipal');
    }
  });

  it('custom data carries the supervisor config and desired state, never the channel identity', async () => {
    const render = await fixtureRender();
    for (const template of render.workspaces.values()) {
      const vm = template.resources.find((r) => r.type === 'Microsoft.Compute/virtualMachines');
      const document = Buffer.from(
        String(
          (((vm?.['properties'] ?? {}) as Record<string, unknown>)['osProfile'] as Record<string, string>)[
            'customData'
          ],
        ),
        'base64',
      ).toString('utf8');
      // Every gzip member (base64 of the gzip magic starts "H4sI") the boot document carries.
      const decoded = [...document.matchAll(/H4sI[A-Za-z0-9+/=]+/g)]
        .map((match) => gunzipSync(Buffer.from(match[0], 'base64')).toString('utf8'))
        .join('\n');
      assert.match(decoded, /"channelUrl": "wss:\/\/paddock\.example\.com\/channel"/);
      assert.match(decoded, /kind: Blueprint/);
      assert.doesNotMatch(document + decoded, /PRIVATE KEY|privateKeyPem/);
      // The identity is a secure template parameter, stored only as the Key Vault secret.
      assert.equal(template.parameters['channelIdentity']?.type, 'securestring');
      const secret = template.resources.find((r) => r.type === 'Microsoft.KeyVault/vaults/secrets');
      assert.equal(
        ((secret?.['properties'] ?? {}) as Record<string, string>)['value'],
        "[parameters('channelIdentity')]",
      );
    }
  });

  it('`paddock render azure --out DIR` writes the golden files', () => {
    const out = mkdtempSync(join(tmpdir(), 'render-azure-'));
    try {
      const bin = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
      const stdout = execFileSync(
        process.execPath,
        [bin, 'render', 'azure', '--config', FIXTURE_DIR, '--settings', SETTINGS_FILE, '--out', out],
        {
          encoding: 'utf8',
        },
      );
      assert.match(stdout, /rendered 4 files/);
      assert.deepEqual(listFiles(out), mainGoldenFiles());
      for (const file of listFiles(out))
        assert.equal(readFileSync(join(out, file), 'utf8'), readFileSync(join(GOLDEN_DIR, file), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('`paddock render azure` without settings refuses with PDK_AZURE_SETTINGS_INVALID and writes nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'render-azure-'));
    try {
      const bin = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
      assert.throws(
        () =>
          execFileSync(process.execPath, [bin, 'render', 'azure', '--config', FIXTURE_DIR, '--out', out], {
            encoding: 'utf8',
            stdio: 'pipe',
          }),
        (error: { stderr: string; status: number }) =>
          error.status === 1 && /PDK_AZURE_SETTINGS_INVALID/.test(error.stderr),
      );
      assert.deepEqual(listFiles(out), []);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
