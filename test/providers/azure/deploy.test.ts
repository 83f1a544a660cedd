import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import {
  AzureProvider,
  adminCredential,
  azureCredential,
  hubNames,
  workspaceNames,
} from '../../../src/providers/azure/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import { ArmSchemas } from './arm-schemas.ts';
import { type ArmStandIn, StandInCredential, startArmStandIn } from './arm-standin.ts';
import { FIXTURE_DIR, fixtureSettings } from './render-fixture.ts';

// AzureProvider through @azure/arm-resources against a LOCAL STAND-IN for the ARM endpoint
// (arm-standin.ts: HTTPS, deployments, the long-running-operation protocol, VM actions) and a
// stand-in TokenCredential: no real Azure can run here. Every test name says so.

const settings = fixtureSettings();
const schemas = new ArmSchemas();
const spec: WorkspaceSpec = {
  id: 'ws-0001',
  owner: 'carol@example.com',
  profile: 'analyst-azure',
  blueprint: 'data-analysis',
  configDir: FIXTURE_DIR,
};
const windowsSpec: WorkspaceSpec = {
  ...spec,
  id: 'ws-0002',
  owner: 'dan@example.com',
  profile: 'dev-windows',
  blueprint: 'coding-agent',
};
const names = workspaceNames(settings, spec.id);
const hub = hubNames(settings);
const group =
  `/subscriptions/${settings.subscriptionId}/resourcegroups/${settings.resourceGroup}`.toLowerCase();
const idOf = (path: string) => `${group}/providers/${path}`.toLowerCase();

let standIn: ArmStandIn;
let dataDir: string;

function provider(credential: TokenCredential = new StandInCredential()): AzureProvider {
  return new AzureProvider({
    settings,
    dataDir,
    credential,
    endpoint: standIn.url,
    ca: standIn.ca,
    pollIntervalMs: 5,
  });
}

function calls(): string[] {
  return standIn.requests
    .filter((request) => !/^\/(operations|locations)\//.test(request.path))
    .map((request) => `${request.method} ${request.path.replace(/^.*\/providers\//i, '')}`);
}

describe('azure provider against a local ARM stand-in', () => {
  before(async () => {
    standIn = await startArmStandIn(schemas);
  });
  after(async () => {
    await standIn.close();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'azure-provider-'));
    standIn.requests.length = 0;
    standIn.resources.clear();
    standIn.power.clear();
  });

  it('stand-in ARM: deploys the hub as an Incremental resource-group deployment, polled to completion', async () => {
    const credential = new StandInCredential();
    await provider(credential).deployHub(FIXTURE_DIR);
    assert.deepEqual(credential.scopes.slice(0, 1), ['https://management.azure.com/.default']);
    const put = standIn.requests.find((request) => request.method === 'PUT');
    assert.ok(put);
    assert.match(
      put.path,
      /\/resourceGroups\/rg-paddock\/providers\/Microsoft\.Resources\/deployments\/pdk-hub$/,
    );
    assert.equal(put.apiVersion, '2025-04-01');
    assert.equal((put.body as { properties: { mode: string } }).properties.mode, 'Incremental');
    // The Azure-AsyncOperation URL was polled until Succeeded, then the deployment read back.
    assert.ok(standIn.requests.filter((request) => request.path.startsWith('/operations/')).length >= 3);
    assert.ok(standIn.resources.has(idOf(`Microsoft.Network/azureFirewalls/${hub.firewall}`)));
    assert.ok(standIn.resources.has(idOf(`Microsoft.KeyVault/vaults/${hub.keyVault}`)));
  });

  it('stand-in ARM: start creates the workspace (identity as a secure parameter) and starts the VM', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    await azure.provision(spec);
    assert.equal(azure.status(spec.id), 'stopped');
    await azure.start(spec, identity, 'ws://127.0.0.1:1/channel');
    assert.equal(azure.status(spec.id), 'running');
    // The revocation marker is read before the first write and after the last (revoke-race.test.ts).
    const marker = `GET Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.revokedMarker}`;
    assert.deepEqual(calls(), [
      marker,
      `PUT Microsoft.Resources/deployments/${names.deployment}`,
      `GET Microsoft.Resources/deployments/${names.deployment}`,
      `POST Microsoft.Compute/virtualMachines/${names.vm}/start`,
      marker,
    ]);
    const deployment = standIn.requests.find((request) => request.method === 'PUT')?.body as {
      properties: {
        template: { resources: { type: string }[]; parameters: Record<string, { type: string }> };
        parameters: Record<string, { value: string }>;
      };
    };
    assert.equal(deployment.properties.template.parameters['channelIdentity']?.type, 'securestring');
    assert.equal(
      JSON.parse(deployment.properties.parameters['channelIdentity']?.value ?? '{}').kid,
      identity.kid,
    );
    assert.match(
      deployment.properties.parameters['adminCredential']?.value ?? '',
      /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA/,
    );
    for (const type of [
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Network/routeTables',
      'Microsoft.Network/networkSecurityGroups',
    ])
      assert.ok(
        deployment.properties.template.resources.some((resource) => resource.type === type),
        type,
      );
    assert.ok(standIn.resources.has(idOf(`Microsoft.Compute/disks/${names.dataDisk}`)));
    assert.equal(await azure.refresh(spec.id), 'running');
  });

  it('stand-in ARM: stop deallocates, powerOff keeps the VM allocated, and status follows the instance view', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    await azure.start(spec, identity, 'ws://unused');
    await azure.stop(spec.id);
    assert.equal(standIn.power.get(idOf(`Microsoft.Compute/virtualMachines/${names.vm}`)), 'deallocated');
    assert.equal(await azure.refresh(spec.id), 'stopped');
    await azure.start(spec, identity, 'ws://unused');
    await azure.powerOff(spec.id);
    assert.equal(standIn.power.get(idOf(`Microsoft.Compute/virtualMachines/${names.vm}`)), 'stopped');
    const actions = calls().filter((call) => call.startsWith('POST'));
    assert.deepEqual(actions, [
      `POST Microsoft.Compute/virtualMachines/${names.vm}/start`,
      `POST Microsoft.Compute/virtualMachines/${names.vm}/deallocate`,
      `POST Microsoft.Compute/virtualMachines/${names.vm}/start`,
      `POST Microsoft.Compute/virtualMachines/${names.vm}/powerOff`,
    ]);
    // Each action was polled through its operation URL (start: Azure-AsyncOperation; others: Location).
    assert.ok(standIn.requests.some((request) => request.path.startsWith('/locations/')));
  });

  it('stand-in ARM: a later start redeploys only the identity secret (custom data cannot change on a VM)', async () => {
    const azure = provider();
    const first = await generateIdentity(spec.id);
    await azure.start(spec, first.identity, 'ws://unused');
    await azure.stop(spec.id);
    standIn.requests.length = 0;
    const second = await generateIdentity(spec.id);
    await azure.start(spec, second.identity, 'ws://unused');
    const put = standIn.requests.find((request) => request.method === 'PUT');
    assert.match(put?.path ?? '', new RegExp(`deployments/${names.deployment}-identity$`));
    const body = put?.body as {
      properties: {
        template: { resources: { type: string }[] };
        parameters: Record<string, { value: string }>;
      };
    };
    assert.deepEqual(
      body.properties.template.resources.map((resource) => resource.type),
      ['Microsoft.KeyVault/vaults/secrets'],
    );
    assert.equal(
      JSON.parse(body.properties.parameters['channelIdentity']?.value ?? '{}').kid,
      second.identity.kid,
    );
  });

  it('stand-in ARM: rebuild deletes the VM and the next start recreates it with the data disk attached', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    await azure.start(spec, identity, 'ws://unused');
    await assert.rejects(azure.rebuild(spec), (error: unknown) =>
      isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'),
    );
    await azure.stop(spec.id);
    await azure.rebuild(spec);
    assert.ok(!standIn.resources.has(idOf(`Microsoft.Compute/virtualMachines/${names.vm}`)));
    assert.ok(
      !standIn.resources.has(idOf(`Microsoft.Network/networkInterfaces/${names.nic}`)),
      'NIC deleted with the VM',
    );
    assert.ok(standIn.resources.has(idOf(`Microsoft.Compute/disks/${names.dataDisk}`)), 'data disk kept');
    await azure.start(spec, identity, 'ws://unused');
    const vm = standIn.resources.get(idOf(`Microsoft.Compute/virtualMachines/${names.vm}`)) as {
      properties: { storageProfile: { dataDisks: { createOption: string }[] } };
    };
    assert.equal(vm.properties.storageProfile.dataDisks[0]?.createOption, 'Attach');
    assert.equal(azure.status(spec.id), 'running');
  });

  it('stand-in ARM: revoke marks the workspace first, powers the VM off at once, overwrites the secret and deletes the VM identity', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    await azure.start(spec, identity, 'ws://unused');
    standIn.requests.length = 0;
    await azure.dropCredentials(spec.id);
    const markerPath = `Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.revokedMarker}`;
    assert.equal(calls()[0], `PUT ${markerPath}`);
    assert.ok(standIn.resources.has(idOf(markerPath)));
    const powerOff = standIn.requests.find((request) => request.path.endsWith('/powerOff'));
    assert.equal(powerOff?.query.get('skipShutdown'), 'true');
    const secret = standIn.resources.get(
      idOf(`Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.secret}`),
    ) as {
      properties: { value: string };
    };
    assert.equal(secret.properties.value, 'revoked');
    assert.ok(
      !standIn.resources.has(idOf(`Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}`)),
    );
    assert.equal(azure.status(spec.id), 'stopped');
    await azure.dropCredentials(spec.id); // idempotent
    // A revoke is for good: the next start is refused and the identity stays deleted.
    await assert.rejects(azure.start(spec, identity, 'ws://unused'), (error: unknown) =>
      isPaddockError(error, 'PDK_AZURE_WORKSPACE_REVOKED'),
    );
    assert.ok(
      !standIn.resources.has(idOf(`Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}`)),
    );
  });

  it('stand-in ARM: a revoke through another replica (no record of the workspace in its state) still powers off, overwrites the secret and deletes the identity', async (t) => {
    const { identity } = await generateIdentity(spec.id);
    await provider().start(spec, identity, 'ws://unused');
    const otherDir = mkdtempSync(join(tmpdir(), 'azure-provider-other-'));
    t.after(() => rmSync(otherDir, { recursive: true, force: true }));
    const otherReplica = new AzureProvider({
      settings,
      dataDir: otherDir,
      credential: new StandInCredential(),
      endpoint: standIn.url,
      ca: standIn.ca,
      pollIntervalMs: 5,
    });
    await otherReplica.dropCredentials(spec.id);
    assert.equal(standIn.power.get(idOf(`Microsoft.Compute/virtualMachines/${names.vm}`)), 'stopped');
    const secret = standIn.resources.get(
      idOf(`Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.secret}`),
    ) as { properties: { value: string } };
    assert.equal(secret.properties.value, 'revoked');
    assert.ok(
      !standIn.resources.has(idOf(`Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}`)),
    );
    // A workspace with no VM anywhere: nothing to power off, the rest still done.
    await otherReplica.dropCredentials('ws-nowhere0000');
  });

  it('stand-in ARM: destroy removes every resource of the workspace and keeps only a revoked secret', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    await azure.deployHub(FIXTURE_DIR);
    const hubCount = standIn.resources.size;
    await azure.start(spec, identity, 'ws://unused');
    await azure.destroy(spec.id);
    const left = [...standIn.resources.keys()].filter((id) => id.includes(names.stem));
    assert.deepEqual(left, [idOf(`Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.secret}`)]);
    assert.equal(standIn.resources.size, hubCount + 1);
    assert.equal(azure.status(spec.id), 'absent');
    await azure.destroy(spec.id); // idempotent
  });

  it('stand-in ARM: a Windows workspace deploys with a random admin password and its bootstrap extension', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(windowsSpec.id);
    await azure.start(windowsSpec, identity, 'ws://unused');
    const body = standIn.requests.find((request) => request.method === 'PUT')?.body as {
      properties: {
        template: { resources: { type: string }[] };
        parameters: Record<string, { value: string }>;
      };
    };
    const password = body.properties.parameters['adminCredential']?.value ?? '';
    assert.ok(
      password.length >= 32 && /[a-z]/.test(password) && /[A-Z]/.test(password) && /\d/.test(password),
    );
    assert.ok(
      body.properties.template.resources.some(
        (resource) => resource.type === 'Microsoft.Compute/virtualMachines/extensions',
      ),
    );
    assert.equal(azure.status(windowsSpec.id), 'running');
  });

  it('stand-in ARM: a failed deployment surfaces as PDK_AZURE_ARM with the ARM error code, and the workspace is not marked running', async () => {
    const azure = provider();
    const { identity } = await generateIdentity(spec.id);
    standIn.failNextDeployment = {
      code: 'SkuNotAvailable',
      message: 'Standard_D4s_v3 is not available in westeurope',
    };
    await assert.rejects(azure.start(spec, identity, 'ws://unused'), (error: unknown) => {
      assert.ok(isPaddockError(error, 'PDK_AZURE_ARM'));
      assert.match(error.message, /SkuNotAvailable/);
      return true;
    });
    assert.equal(azure.status(spec.id), 'stopped');
  });

  it('stand-in ARM: a workspace whose render breaks a rule is refused before any ARM request (fail closed)', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'azure-repo-'));
    try {
      cpSync(FIXTURE_DIR, repo, { recursive: true });
      mkdirSync(join(repo, 'policies'), { recursive: true });
      // Incompressible text: custom data (gzip + base64) would exceed Azure's 64 KB.
      writeFileSync(join(repo, 'policies', 'huge.cedar'), `// ${randomBytes(60_000).toString('base64')}\n`);
      const azure = provider();
      const { identity } = await generateIdentity(spec.id);
      await assert.rejects(
        azure.start({ ...spec, configDir: repo }, identity, 'ws://unused'),
        (error: unknown) => isPaddockError(error, 'PDK_AZURE_CUSTOM_DATA_TOO_LARGE'),
      );
      assert.deepEqual(calls(), []);
      assert.equal(azure.status(spec.id), 'stopped');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('stand-in ARM: requests without a valid token are refused (401 → PDK_AZURE_ARM)', async () => {
    const wrong: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({
        token: 'someone-else',
        expiresOnTimestamp: Date.now() + 60_000,
      }),
    };
    await assert.rejects(provider(wrong).deployHub(FIXTURE_DIR), (error: unknown) => {
      assert.ok(isPaddockError(error, 'PDK_AZURE_ARM'));
      assert.match(error.message, /401|AuthenticationFailed/);
      return true;
    });
  });

  it('stand-in ARM: the provider state survives a restart (slots and status)', async () => {
    const first = provider();
    await first.provision(spec);
    await first.provision(windowsSpec);
    const { identity } = await generateIdentity(spec.id);
    await first.start(spec, identity, 'ws://unused');
    const second = provider();
    assert.equal(second.status(spec.id), 'running');
    assert.equal(second.status(windowsSpec.id), 'stopped');
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('azure credentials (selected by settings, not probed)', () => {
  it('workload-identity mode builds a WorkloadIdentityCredential; managed-identity a ManagedIdentityCredential', () => {
    assert.ok(
      azureCredential({
        mode: 'workload-identity',
        clientId: 'c',
        tenantId: settings.tenantId,
        tokenFilePath: '/dev/null',
      }) instanceof WorkloadIdentityCredential,
    );
    assert.ok(azureCredential({ mode: 'managed-identity' }) instanceof ManagedIdentityCredential);
    assert.ok(
      azureCredential({ mode: 'managed-identity', clientId: 'c' }) instanceof ManagedIdentityCredential,
    );
  });

  it('admin credentials are throwaway: a fresh SSH key (private half dropped) or a fresh password each time', () => {
    assert.notEqual(adminCredential('linux'), adminCredential('linux'));
    assert.match(adminCredential('linux'), /^ssh-ed25519 [A-Za-z0-9+/=]+ paddock-unused$/);
    assert.notEqual(adminCredential('windows'), adminCredential('windows'));
  });
});
