import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { requireValidRepository } from '../../config/index.ts';
import type { WorkspaceIdentity } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ProviderStatus, WorkspaceProvider, WorkspaceSpec } from '../provider.ts';
import { releaseAnchorOf } from '../release-anchor.ts';
import { ArmClient } from './arm-client.ts';
import type { ArmTemplate } from './arm.ts';
import { azureCredential } from './credential.ts';
import { hubNames, workspaceNames, workspaceSlots } from './names.ts';
import { desiredStateFiles, renderAzure } from './render.ts';
import type { AzureSettings } from './settings.ts';
import { renderWorkspaceTemplate } from './workspace-template.ts';
import { checkWorkspaceTemplate } from './checks.ts';

// The azure provider: a workspace is a Trusted Launch VM in its own spoke subnet (workspace-
// template.ts). The lifecycle maps onto ARM as:
//   provision  → a subnet slot is reserved (nothing is billed yet)
//   start      → first time: the workspace deployment (identity, secret, subnet, NSG, route
//                table, NIC, VM, data disk); later: the secret deployment (the new channel
//                identity), then POST start
//   stop       → POST deallocate (graceful shutdown; compute released); powerOff() keeps it allocated
//   rebuild    → DELETE the VM (OS disk and NIC go with it, the data disk stays); the next start
//                redeploys it from the profile with the data disk attached
//   dropCredentials (revoke) → the revocation marker, then POST powerOff?skipShutdown=true, the
//                secret overwritten, the VM's managed identity deleted: the VM can no longer read anything
//   destroy    → every resource of the workspace deleted, the data disk too
// A revoke is for good, on every replica (each keeps its own state file, so only Azure is shared):
// its marker is a Key Vault secret `<prefix>-<stem>-revoked` in the hub vault, PUT first and
// checked by a GET. No template renders it (a redeploy never overwrites it), ARM's control plane
// can PUT and GET vault secrets (the provider already PUTs the channel secret that way) but not
// delete them, so it outlives destroy too: an id once revoked is never started again. A start
// refuses a marked workspace before it deploys anything (PDK_AZURE_WORKSPACE_REVOKED) and reads
// the marker again after its last write: with no lock across replicas, a start in flight when
// another replica revoked finds it then and cuts the workspace again with the revoke's own steps.
// The channel URL the lifecycle passes is the control plane's local one; VMs dial
// settings.channelUrl, the public wss:// name the hub firewall allows.

const log = createLogger('provider-azure');

const REVOKED = 'revoked';

interface WorkspaceRecord {
  readonly owner: string;
  readonly profile: string;
  readonly blueprint: string;
  readonly slot: number;
  status: ProviderStatus;
  /** The data disk exists (a redeploy attaches it rather than creating it). */
  dataDisk: boolean;
  /** The VM exists. */
  vm: boolean;
}

export interface AzureProviderOptions {
  readonly settings: AzureSettings;
  /** Where the provider keeps its state file (slots, last known status): DATA_DIR/azure. */
  readonly dataDir: string;
  /** Default: from settings.auth (credential.ts). */
  readonly credential?: TokenCredential;
  /** ARM endpoint (default the public cloud's) and extra CA to trust for it. */
  readonly endpoint?: string;
  readonly ca?: string;
  readonly pollIntervalMs?: number;
}

export class AzureProvider implements WorkspaceProvider {
  readonly name = 'azure';
  readonly #settings: AzureSettings;
  readonly #arm: ArmClient;
  readonly #stateFile: string;
  readonly #records: Map<string, WorkspaceRecord>;

  constructor(options: AzureProviderOptions) {
    this.#settings = options.settings;
    const credential =
      options.credential ?? azureCredential(options.settings.auth, options.ca ? { ca: options.ca } : {});
    this.#arm = new ArmClient(credential, {
      subscriptionId: options.settings.subscriptionId,
      resourceGroup: options.settings.resourceGroup,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    });
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.#stateFile = join(options.dataDir, 'azure-workspaces.json');
    this.#records = new Map(Object.entries(readState(this.#stateFile)));
  }

  /** Renders the hub from the desired state and deploys it (the platform's one-time setup, and after blueprint changes). */
  async deployHub(configDir: string): Promise<void> {
    const { state, blueprints } = await requireValidRepository(configDir);
    const { hub } = renderAzure({ settings: this.#settings, state, blueprints, workspaces: [], files: [] });
    await this.#arm.deploy(hubNames(this.#settings).deployment, hub);
  }

  async provision(spec: WorkspaceSpec): Promise<void> {
    if (this.#records.has(spec.id)) return;
    const used = new Set([...this.#records.values()].map((record) => record.slot));
    let slot = 0;
    while (used.has(slot)) slot += 1;
    if (slot >= workspaceSlots(this.#settings))
      throw new PaddockError(
        'PDK_AZURE_SETTINGS_INVALID',
        `no free /28 left in workspaces.addressSpace ${this.#settings.workspaces.addressSpace} for workspace ${spec.id}`,
      );
    this.#records.set(spec.id, {
      owner: spec.owner,
      profile: spec.profile,
      blueprint: spec.blueprint,
      slot,
      status: 'stopped',
      dataDisk: false,
      vm: false,
    });
    this.#save();
  }

  async start(spec: WorkspaceSpec, identity: WorkspaceIdentity, _channelUrl: string): Promise<void> {
    await this.provision(spec);
    const record = this.#record(spec.id);
    const names = workspaceNames(this.#settings, spec.id);
    const { template, os } = await this.#template(spec, record);
    if (await this.#revoked(spec.id)) throw workspaceRevoked(spec);
    const parameters = {
      channelIdentity: `${JSON.stringify(identity)}\n`,
      adminCredential: adminCredential(os),
    };
    if (!record.vm) {
      await this.#arm.deploy(names.deployment, template, parameters);
      record.vm = true;
      record.dataDisk = true;
    } else {
      // Custom data cannot change on an existing VM: only the identity secret is redeployed.
      await this.#arm.deploy(`${names.deployment}-identity`, identityOnly(template), parameters);
    }
    await this.#arm.vmAction(names.vm, 'start');
    // After the last write: a revoke on another replica meanwhile is found here, and it wins.
    if (await this.#revoked(spec.id)) {
      await this.#cut(spec.id, true);
      record.status = 'stopped';
      this.#save();
      throw workspaceRevoked(spec);
    }
    record.status = 'running';
    this.#save();
    log.info({ workspaceId: spec.id, vm: names.vm }, 'workspace started');
  }

  async stop(workspaceId: string): Promise<void> {
    const record = this.#records.get(workspaceId);
    if (!record?.vm) return;
    await this.#arm.vmAction(workspaceNames(this.#settings, workspaceId).vm, 'deallocate');
    record.status = 'stopped';
    this.#save();
  }

  /** Stops the VM's OS but keeps its compute allocated (a faster start; still billed). */
  async powerOff(workspaceId: string): Promise<void> {
    const record = this.#records.get(workspaceId);
    if (!record?.vm) return;
    await this.#arm.vmAction(workspaceNames(this.#settings, workspaceId).vm, 'powerOff');
    record.status = 'stopped';
    this.#save();
  }

  async rebuild(spec: WorkspaceSpec): Promise<void> {
    const record = this.#record(spec.id);
    if (record.status === 'running')
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `azure: workspace ${spec.id} must be stopped before a rebuild`,
      );
    await this.#deleteVm(spec.id, record);
    this.#save();
  }

  async dropCredentials(workspaceId: string): Promise<void> {
    // Fail closed on a replica that did not deploy it (its state file is this replica's own):
    // the resource names derive from the id, so the VM, secret and identity are found all the same.
    const record = this.#records.get(workspaceId);
    const names = workspaceNames(this.#settings, workspaceId);
    // The marker first: a start racing this revoke either is refused or finds it after its writes.
    await this.#putSecret(names.revokedMarker, REVOKED);
    const vm = record ? record.vm : (await this.#arm.powerState(names.vm)) !== undefined;
    await this.#cut(workspaceId, vm);
    if (!record) return;
    record.status = 'stopped';
    this.#save();
  }

  async destroy(workspaceId: string): Promise<void> {
    const record = this.#records.get(workspaceId);
    if (!record) return;
    const names = workspaceNames(this.#settings, workspaceId);
    const hub = hubNames(this.#settings);
    await this.#deleteVm(workspaceId, record);
    const secretId = this.#arm.resourceId('Microsoft.KeyVault/vaults/secrets', hub.keyVault, names.secret);
    await this.#arm.delete(
      `${secretId}/providers/Microsoft.Authorization/roleAssignments/${names.secretReaderAssignment}`,
      'Microsoft.Authorization/roleAssignments',
    );
    const id = (type: string, ...parts: string[]) => [this.#arm.resourceId(type, ...parts), type] as const;
    // Children before what they reference: NIC, then subnet, then its NSG and route table.
    for (const [resourceId, type] of [
      id('Microsoft.Network/networkInterfaces', names.nic),
      id('Microsoft.Compute/disks', names.dataDisk),
      id('Microsoft.Network/virtualNetworks/subnets', hub.spokeVnet, names.subnet),
      id('Microsoft.Network/networkSecurityGroups', names.nsg),
      id('Microsoft.Network/routeTables', names.routeTable),
      id('Microsoft.ManagedIdentity/userAssignedIdentities', names.identity),
    ])
      await this.#arm.delete(resourceId, type);
    await this.#putSecret(names.secret, REVOKED);
    this.#records.delete(workspaceId);
    this.#save();
  }

  status(workspaceId: string): ProviderStatus {
    return this.#records.get(workspaceId)?.status ?? 'absent';
  }

  /** Reads the VM's power state from ARM into status() (e.g. after a control-plane restart). */
  async refresh(workspaceId: string): Promise<ProviderStatus> {
    const record = this.#records.get(workspaceId);
    if (!record) return 'absent';
    const power = await this.#arm.powerState(workspaceNames(this.#settings, workspaceId).vm);
    record.vm = power !== undefined;
    record.status = power === 'running' || power === 'starting' ? 'running' : 'stopped';
    this.#save();
    return record.status;
  }

  /** VMs outlive the control plane: their supervisors reconnect when it is back. Nothing to stop. */
  async close(): Promise<void> {}

  async #template(
    spec: WorkspaceSpec,
    record: WorkspaceRecord,
  ): Promise<{ template: ArmTemplate; os: 'linux' | 'windows' }> {
    const { state } = await requireValidRepository(spec.configDir);
    const profile = state.profiles.get(spec.profile)?.value;
    if (profile?.spec.provider !== 'azure')
      throw new PaddockError(
        'PDK_AZURE_SETTINGS_INVALID',
        `workspace ${spec.id}: ${spec.profile} is not an azure profile`,
      );
    const releases = releaseAnchorOf(spec);
    const template = renderWorkspaceTemplate(this.#settings, {
      id: spec.id,
      owner: spec.owner,
      profileName: spec.profile,
      profile,
      blueprint: spec.blueprint,
      slot: record.slot,
      files: await desiredStateFiles(state),
      attachDataDisk: record.dataDisk,
      // The VM cannot read the control plane's files: the channel's root travels in custom data.
      ...(releases ? { releases } : {}),
    });
    checkWorkspaceTemplate(template, this.#settings);
    return { template, os: profile.spec.os };
  }

  /** The revoke's cut: the VM powered off at once, its channel secret overwritten, its identity deleted. */
  async #cut(workspaceId: string, vm: boolean): Promise<void> {
    const names = workspaceNames(this.#settings, workspaceId);
    if (vm) await this.#arm.vmAction(names.vm, 'powerOff', { skipShutdown: 'true' });
    await this.#putSecret(names.secret, REVOKED);
    await this.#arm.delete(
      this.#arm.resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', names.identity),
      'Microsoft.ManagedIdentity/userAssignedIdentities',
    );
  }

  /** Whether the workspace was revoked (its marker secret exists in the hub vault). */
  async #revoked(workspaceId: string): Promise<boolean> {
    const names = workspaceNames(this.#settings, workspaceId);
    const id = this.#arm.resourceId(
      'Microsoft.KeyVault/vaults/secrets',
      hubNames(this.#settings).keyVault,
      names.revokedMarker,
    );
    return (await this.#arm.get(id, 'Microsoft.KeyVault/vaults/secrets')) !== undefined;
  }

  async #putSecret(name: string, value: string): Promise<void> {
    await this.#arm.put(
      this.#arm.resourceId('Microsoft.KeyVault/vaults/secrets', hubNames(this.#settings).keyVault, name),
      'Microsoft.KeyVault/vaults/secrets',
      { properties: { value } },
    );
  }

  async #deleteVm(workspaceId: string, record: WorkspaceRecord): Promise<void> {
    const names = workspaceNames(this.#settings, workspaceId);
    await this.#arm.delete(
      this.#arm.resourceId('Microsoft.Compute/virtualMachines', names.vm),
      'Microsoft.Compute/virtualMachines',
    );
    record.vm = false;
    record.status = 'stopped';
  }

  #record(workspaceId: string): WorkspaceRecord {
    const record = this.#records.get(workspaceId);
    if (!record)
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `azure: workspace ${workspaceId} was never provisioned`,
      );
    return record;
  }

  #save(): void {
    const temporary = `${this.#stateFile}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(Object.fromEntries(this.#records), null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, this.#stateFile);
  }
}

function workspaceRevoked(spec: WorkspaceSpec): PaddockError {
  return new PaddockError(
    'PDK_AZURE_WORKSPACE_REVOKED',
    `azure: workspace ${spec.id} of ${spec.owner} was revoked: it is never started again`,
    { details: { workspace: spec.id } },
  );
}

function readState(file: string): Record<string, WorkspaceRecord> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, WorkspaceRecord>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `azure: cannot read ${file}: ${(error as Error).message}`,
    );
  }
}

/** The part of a workspace template that carries the channel identity: its secret. */
function identityOnly(template: ArmTemplate): ArmTemplate {
  return {
    ...template,
    resources: template.resources.filter((entry) => entry.type === 'Microsoft.KeyVault/vaults/secrets'),
  };
}

/**
 * A login credential nobody holds (there is no inbound path to use it anyway): an SSH key whose
 * private half is dropped here (Linux), or a random password with the three character classes
 * Windows demands.
 */
export function adminCredential(os: 'linux' | 'windows'): string {
  if (os === 'windows') return `${randomBytes(24).toString('base64url')}aA1!`;
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(String(publicKey.export({ format: 'jwk' }).x), 'base64url');
  const sshString = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length, 0);
    return Buffer.concat([length, bytes]);
  };
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} paddock-unused`;
}
