import { type DesiredState, requireValidRepository } from '../../config/index.ts';
import type { WorkspaceIdentity } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ProviderStatus, WorkspaceProvider, WorkspaceSpec } from '../provider.ts';
import { releaseAnchorOf } from '../release-anchor.ts';
import { desiredStateFilesOf } from './desired-workspaces.ts';
import type { KubeApi, KubeRef } from './kube-api.ts';
import {
  ANNOTATIONS,
  cloudInitSecretName,
  identitySecretName,
  LABELS,
  namespaceOf,
  revokedMarkerName,
  rootDataVolumeName,
  vmName,
} from './names.ts';
import { renderNamespaceObjects, renderWorkspaceObjects } from './render.ts';
import {
  identitySecret,
  type KubeObject,
  type KubeVirtWorkspace,
  networkPolicy,
  revokedMarker,
} from './resources.ts';
import type { KubeVirtSettings } from './settings.ts';
import { assertAdmissible } from './admission.ts';

// The kubevirt provider: a workspace is a VirtualMachine in its owner's namespace. The
// lifecycle maps to the Kubernetes API as follows (docs/kubevirt.md):
//   provision  apply Namespace, NetworkPolicy, EgressFirewall, cloud-init Secret, DataVolume, VM (Halted)
//   start      apply the identity Secret, then the same objects with runStrategy Always (a VM
//              already running is restarted, so it boots with the new identity)
//   stop       merge-patch runStrategy Halted
//   rebuild    a new DataVolume (generation + 1), the VM pointed at it, the old one deleted
//   dropCredentials (revoke)  a revocation marker Secret, then delete the identity Secret,
//              NetworkPolicy with no egress, runStrategy Halted
//   destroy    delete the VM, its DataVolumes and Secrets; the namespace when it holds no other VM
// A revoke is for good: its marker (written first, removed only by destroy) makes every later
// provision, start or rebuild of that workspace fail before it writes anything
// (PDK_KUBEVIRT_WORKSPACE_REVOKED), on any replica. The marker is read again after each apply:
// with no lock across replicas, a start already in flight when another replica revoked finds it
// then, and undoes itself (the cut NetworkPolicy again, its identity Secret deleted, its VM
// halted). Another workspace of the owner is not affected: the reconciler gives a user who is
// still assigned a new one, and its start opens the namespace again; the revoked VM stays halted
// and without identity.
// The supervisor dials the control plane's in-cluster service (settings.controlPlane), which the
// NetworkPolicy allows; the lifecycle's own channel URL is for local supervisors and is ignored.

const log = createLogger('provider-kubevirt');

const VM: Pick<KubeRef, 'apiVersion' | 'kind'> = { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine' };
const DATA_VOLUME: Pick<KubeRef, 'apiVersion' | 'kind'> = {
  apiVersion: 'cdi.kubevirt.io/v1beta1',
  kind: 'DataVolume',
};
const SECRET: Pick<KubeRef, 'apiVersion' | 'kind'> = { apiVersion: 'v1', kind: 'Secret' };
const VMI: Pick<KubeRef, 'apiVersion' | 'kind'> = {
  apiVersion: 'kubevirt.io/v1',
  kind: 'VirtualMachineInstance',
};

export interface KubeVirtProviderOptions {
  readonly api: KubeApi;
  readonly settings: KubeVirtSettings;
}

interface Located {
  readonly namespace: string;
  readonly owner: string;
}

export class KubeVirtProvider implements WorkspaceProvider {
  readonly name = 'kubevirt';
  readonly #api: KubeApi;
  readonly #settings: KubeVirtSettings;
  readonly #located = new Map<string, Located>();
  readonly #status = new Map<string, ProviderStatus>();

  constructor(options: KubeVirtProviderOptions) {
    this.#api = options.api;
    this.#settings = options.settings;
  }

  async provision(spec: WorkspaceSpec): Promise<void> {
    const existing = await this.#readVm(spec);
    await this.#applyAll(spec, { runStrategy: 'Halted', generation: generationOf(existing) });
    this.#status.set(spec.id, 'stopped');
  }

  async start(spec: WorkspaceSpec, identity: WorkspaceIdentity, _channelUrl: string): Promise<void> {
    if (identity.workspaceId !== spec.id)
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `kubevirt provider: identity of ${identity.workspaceId} given to ${spec.id}`,
      );
    const namespace = namespaceOf(this.#settings.namespacePrefix, spec.owner);
    const existing = await this.#readVm(spec);
    // Rendered (and checked) before anything is applied: a render that fails leaves the cluster alone.
    const objects = await this.#render(spec, { runStrategy: 'Always', generation: generationOf(existing) });
    // The identity first: the VM's identity disk is this Secret, and it must exist before the VM boots.
    await this.#apply(spec, [
      identitySecret(namespace, spec.id, spec.owner, `${JSON.stringify(identity)}\n`),
      ...objects,
    ]);
    // A running guest sees its identity disk as it was at boot: restart it (delete the VMI; the VM
    // controller makes a new one) so the supervisor comes up with the identity just issued.
    if (runStrategyOf(existing) === 'Always')
      await this.#api.remove({ ...VMI, namespace, name: vmName(spec.id) });
    this.#status.set(spec.id, 'running');
  }

  /**
   * Learns every Paddock VM's location and run state from the cluster. Call it when the control
   * plane starts (before the lifecycle resumes workspaces): status() is otherwise only what this
   * replica has done since it started. Resolves to how many workspaces it found.
   */
  async refreshStatus(): Promise<number> {
    const owners = new Map<string, string | undefined>();
    let found = 0;
    for (const vm of await this.#api.list(VM.apiVersion, VM.kind, `${LABELS.managedBy}=paddock`)) {
      const workspaceId = vm.metadata.labels?.[LABELS.workspace];
      const namespace = vm.metadata.namespace;
      if (!workspaceId || !namespace) continue;
      if (!owners.has(namespace)) {
        const namespaceObject = await this.#api.read({
          apiVersion: 'v1',
          kind: 'Namespace',
          name: namespace,
        });
        owners.set(namespace, namespaceObject?.metadata.annotations?.[ANNOTATIONS.ownerEmail]);
      }
      const owner = owners.get(namespace);
      if (owner) this.#located.set(workspaceId, { namespace, owner });
      this.#status.set(workspaceId, runStrategyOf(vm) === 'Always' ? 'running' : 'stopped');
      found++;
    }
    return found;
  }

  async stop(workspaceId: string): Promise<void> {
    const located = await this.#locate(workspaceId);
    if (!located) return;
    await this.#halt(workspaceId, located.namespace);
    this.#status.set(workspaceId, 'stopped');
  }

  async rebuild(spec: WorkspaceSpec): Promise<void> {
    if (this.#status.get(spec.id) === 'running')
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `kubevirt provider: stop ${spec.id} before rebuilding it`,
      );
    const namespace = namespaceOf(this.#settings.namespacePrefix, spec.owner);
    const previous = generationOf(await this.#readVm(spec));
    await this.#applyAll(spec, { runStrategy: 'Halted', generation: previous + 1 });
    await this.#api.remove({ ...DATA_VOLUME, namespace, name: rootDataVolumeName(spec.id, previous) });
    this.#status.set(spec.id, 'stopped');
  }

  async dropCredentials(workspaceId: string): Promise<void> {
    const located = await this.#locate(workspaceId);
    if (!located) return;
    // The marker first: an apply racing this revoke either sees it or is followed by the cut below.
    await this.#api.apply(revokedMarker(located.namespace, workspaceId, located.owner));
    // Fail closed in this order: no identity to authenticate with, no network to use it on, no VM.
    await this.#api.remove({
      ...SECRET,
      namespace: located.namespace,
      name: identitySecretName(workspaceId),
    });
    await this.#api.apply(this.#cutPolicy(located.namespace, located.owner));
    await this.#halt(workspaceId, located.namespace);
    this.#status.set(workspaceId, 'stopped');
  }

  async destroy(workspaceId: string): Promise<void> {
    const located = await this.#locate(workspaceId);
    if (!located) {
      this.#status.set(workspaceId, 'absent');
      return;
    }
    const { namespace } = located;
    await this.#api.remove({ ...VM, namespace, name: vmName(workspaceId) });
    for (const volume of await this.#api.list(
      DATA_VOLUME.apiVersion,
      DATA_VOLUME.kind,
      `${LABELS.workspace}=${workspaceId}`,
      namespace,
    ))
      await this.#api.remove({ ...DATA_VOLUME, namespace, name: volume.metadata.name });
    await this.#api.remove({ ...SECRET, namespace, name: cloudInitSecretName(workspaceId) });
    await this.#api.remove({ ...SECRET, namespace, name: identitySecretName(workspaceId) });
    // Last: until its VM and Secrets are gone, the namespace's egress stays cut.
    await this.#api.remove({ ...SECRET, namespace, name: revokedMarkerName(workspaceId) });
    const others = await this.#api.list(VM.apiVersion, VM.kind, `${LABELS.managedBy}=paddock`, namespace);
    if (others.length === 0) await this.#api.remove({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    this.#located.delete(workspaceId);
    this.#status.set(workspaceId, 'absent');
  }

  status(workspaceId: string): ProviderStatus {
    return this.#status.get(workspaceId) ?? 'absent';
  }

  /** Workspace VMs are not children of the control plane: they keep running when it shuts down. */
  async close(): Promise<void> {}

  /** Whether the workspace was revoked (its marker is in the namespace). */
  async #revoked(namespace: string, workspaceId: string): Promise<boolean> {
    return (
      (await this.#api.read({ ...SECRET, namespace, name: revokedMarkerName(workspaceId) })) !== undefined
    );
  }

  /** The namespace's NetworkPolicy with no egress rule. */
  #cutPolicy(namespace: string, owner: string): KubeObject {
    return networkPolicy(namespace, { owner }, this.#settings, { revoked: true });
  }

  async #halt(workspaceId: string, namespace: string): Promise<void> {
    const ref = { ...VM, namespace, name: vmName(workspaceId) };
    if (!(await this.#api.read(ref))) return;
    await this.#api.mergePatch(ref, { spec: { runStrategy: 'Halted' } });
  }

  async #readVm(spec: WorkspaceSpec): Promise<KubeObject | undefined> {
    const namespace = namespaceOf(this.#settings.namespacePrefix, spec.owner);
    this.#located.set(spec.id, { namespace, owner: spec.owner });
    return this.#api.read({ ...VM, namespace, name: vmName(spec.id) });
  }

  /** Where a workspace lives: remembered, else found by its label across namespaces (another replica made it). */
  async #locate(workspaceId: string): Promise<Located | undefined> {
    const known = this.#located.get(workspaceId);
    if (known) return known;
    const [vm] = await this.#api.list(VM.apiVersion, VM.kind, `${LABELS.workspace}=${workspaceId}`);
    const namespace = vm?.metadata.namespace;
    if (!vm || !namespace) return undefined;
    const namespaceObject = await this.#api.read({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    const owner = namespaceObject?.metadata.annotations?.[ANNOTATIONS.ownerEmail];
    if (!owner) return undefined;
    const located = { namespace, owner };
    this.#located.set(workspaceId, located);
    return located;
  }

  async #applyAll(
    spec: WorkspaceSpec,
    options: { readonly runStrategy: KubeVirtSettings['runStrategy']; readonly generation: number },
  ): Promise<void> {
    await this.#apply(spec, await this.#render(spec, options));
  }

  /** The workspace's objects with this run strategy and root generation, admission-checked. */
  async #render(
    spec: WorkspaceSpec,
    options: { readonly runStrategy: KubeVirtSettings['runStrategy']; readonly generation: number },
  ): Promise<KubeObject[]> {
    const { state } = await requireValidRepository(spec.configDir).catch((error: unknown) => {
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `kubevirt provider: desired state of ${spec.id} is invalid`,
        {
          cause: error,
        },
      );
    });
    const workspace = workspaceOf(state, spec, options.generation);
    const settings = { ...this.#settings, runStrategy: options.runStrategy };
    const objects = [
      ...renderNamespaceObjects(workspace, settings),
      ...renderWorkspaceObjects(workspace, settings, await desiredStateFilesOf(state)),
    ];
    assertAdmissible(objects);
    return objects;
  }

  /**
   * Applies the objects unless the workspace was revoked (refused before anything is written).
   * Its marker is read again after the writes, for a revoke on another replica meanwhile (see
   * the top): then what this apply opened is closed again and it fails.
   */
  async #apply(spec: WorkspaceSpec, objects: readonly KubeObject[]): Promise<void> {
    const namespace = namespaceOf(this.#settings.namespacePrefix, spec.owner);
    const vm = objects.find((object) => object.kind === 'VirtualMachine');
    if (await this.#revoked(namespace, spec.id)) throw workspaceRevoked(spec);
    for (const object of objects) await this.#api.apply(object);
    if (await this.#revoked(namespace, spec.id)) {
      await this.#api.apply(this.#cutPolicy(namespace, spec.owner));
      await this.#api.remove({ ...SECRET, namespace, name: identitySecretName(spec.id) });
      await this.#halt(spec.id, namespace);
      this.#status.set(spec.id, 'stopped');
      throw workspaceRevoked(spec);
    }
    log.info(
      {
        workspace: spec.id,
        runStrategy: String(runStrategyOf(vm)),
        generation: vm?.metadata.annotations?.[ANNOTATIONS.rootGeneration],
      },
      'applied',
    );
  }
}

function workspaceRevoked(spec: WorkspaceSpec): PaddockError {
  return new PaddockError(
    'PDK_KUBEVIRT_WORKSPACE_REVOKED',
    `kubevirt provider: ${spec.id} of ${spec.owner} was revoked: it is never provisioned, started or rebuilt again`,
    { details: { workspace: spec.id } },
  );
}

function runStrategyOf(vm: KubeObject | undefined): unknown {
  return (vm?.['spec'] as { runStrategy?: unknown } | undefined)?.runStrategy;
}

function generationOf(vm: KubeObject | undefined): number {
  const value = Number(vm?.metadata.annotations?.[ANNOTATIONS.rootGeneration]);
  return Number.isInteger(value) && value > 0 ? value : 1;
}

function workspaceOf(state: DesiredState, spec: WorkspaceSpec, generation: number): KubeVirtWorkspace {
  const profile = state.profiles.get(spec.profile)?.value;
  if (profile?.spec.provider !== 'kubevirt')
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `kubevirt provider: profile ${spec.profile} of ${spec.id} is missing or not a kubevirt profile`,
    );
  // The VM cannot read the control plane's files: the channel's root travels in its cloud-init.
  const releases = releaseAnchorOf(spec);
  return {
    id: spec.id,
    owner: spec.owner,
    profileName: spec.profile,
    profile: profile.spec,
    blueprint: spec.blueprint,
    rootGeneration: generation,
    ...(releases ? { releases } : {}),
  };
}
