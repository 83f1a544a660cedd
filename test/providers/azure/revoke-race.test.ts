import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import { AzureProvider, hubNames, workspaceNames } from '../../../src/providers/azure/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import { ArmSchemas } from './arm-schemas.ts';
import { type ArmStandIn, StandInCredential, startArmStandIn } from './arm-standin.ts';
import { FIXTURE_DIR, fixtureSettings } from './render-fixture.ts';

// The kill switch across control-plane replicas, against a LOCAL STAND-IN for the ARM endpoint
// (arm-standin.ts; no real Azure can run here). Each replica keeps its own state file, so a revoke
// on one is visible to another only through Azure: its revocation marker.

const settings = fixtureSettings();
const spec: WorkspaceSpec = {
  id: 'ws-0001',
  owner: 'carol@example.com',
  profile: 'analyst-azure',
  blueprint: 'data-analysis',
  configDir: FIXTURE_DIR,
};
const names = workspaceNames(settings, spec.id);
const hub = hubNames(settings);
const group =
  `/subscriptions/${settings.subscriptionId}/resourcegroups/${settings.resourceGroup}`.toLowerCase();
const idOf = (path: string) => `${group}/providers/${path}`.toLowerCase();
const vmId = idOf(`Microsoft.Compute/virtualMachines/${names.vm}`);
const secretId = idOf(`Microsoft.KeyVault/vaults/${hub.keyVault}/secrets/${names.secret}`);
const identityId = idOf(`Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}`);

describe('azure revoke across replicas', () => {
  let standIn: ArmStandIn;
  const dirs: string[] = [];

  /** A control-plane replica: its own state file, the same Azure. */
  const replica = () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'azure-replica-'));
    dirs.push(dataDir);
    return new AzureProvider({
      settings,
      dataDir,
      credential: new StandInCredential(),
      endpoint: standIn.url,
      ca: standIn.ca,
      pollIntervalMs: 5,
    });
  };
  const identity = async () => (await generateIdentity(spec.id)).identity;
  const writes = () => standIn.requests.filter((request) => request.method !== 'GET').length;

  /** The workspace as a revoke leaves it: powered off, its secret revoked, its identity deleted. */
  const assertCut = () => {
    assert.equal(standIn.power.get(vmId), 'stopped');
    assert.equal(
      (standIn.resources.get(secretId) as { properties: { value: string } }).properties.value,
      'revoked',
    );
    assert.ok(!standIn.resources.has(identityId), 'identity deleted');
  };

  before(async () => {
    standIn = await startArmStandIn(new ArmSchemas());
  });
  after(async () => {
    await standIn.close();
  });
  beforeEach(() => {
    standIn.requests.length = 0;
    standIn.resources.clear();
    standIn.power.clear();
  });
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a workspace revoked on one replica is refused a start on any replica before anything is written (stand-in ARM server)', async () => {
    const leader = replica();
    await leader.start(spec, await identity(), 'ws://unused');
    await replica().dropCredentials(spec.id);
    assertCut();
    const writesBefore = writes();
    for (const starter of [replica(), leader])
      await assert.rejects(starter.start(spec, await identity(), 'ws://unused'), {
        code: 'PDK_AZURE_WORKSPACE_REVOKED',
      });
    assert.equal(writes(), writesBefore, 'no PUT, POST or DELETE after the revoke');
    assertCut();
    assert.equal(
      leader.status(spec.id),
      'running',
      'this replica never learnt of the revoke but did nothing',
    );
  });

  it('a start whose deployment is in flight when another replica revokes is undone and rejected (stand-in ARM server)', async () => {
    const leader = replica();
    const held = standIn.holdNext(
      (request) => request.method === 'PUT' && request.path.endsWith(`/deployments/${names.deployment}`),
    );
    const starting = leader.start(spec, await identity(), 'ws://unused');
    await held.reached;
    // The deployment (identity, secret, VM) has not run yet: the revoke finds nothing to power off.
    await replica().dropCredentials(spec.id);
    held.release();
    await assert.rejects(starting, { code: 'PDK_AZURE_WORKSPACE_REVOKED' });
    assertCut();
    assert.equal(leader.status(spec.id), 'stopped');
  });

  it('a later start (identity redeploy) in flight when another replica revokes is undone and rejected (stand-in ARM server)', async () => {
    const leader = replica();
    await leader.start(spec, await identity(), 'ws://unused');
    await leader.stop(spec.id);
    const held = standIn.holdNext(
      (request) =>
        request.method === 'PUT' && request.path.endsWith(`/deployments/${names.deployment}-identity`),
    );
    const starting = leader.start(spec, await identity(), 'ws://unused');
    await held.reached;
    await replica().dropCredentials(spec.id);
    held.release();
    await assert.rejects(starting, { code: 'PDK_AZURE_WORKSPACE_REVOKED' });
    assertCut();
    assert.equal(leader.status(spec.id), 'stopped');
  });
});
