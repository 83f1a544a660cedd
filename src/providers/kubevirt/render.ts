import { stringify } from 'yaml';
import { PaddockError } from '../../core/errors.ts';
import { assertAdmissible } from './admission.ts';
import { checkReleaseAnchor } from '../release-anchor.ts';
import { type CloudInitInput, renderUserData } from './cloud-init.ts';
import { renderWindowsUserData } from './cloudbase-init.ts';
import { namespaceOf } from './names.ts';
import {
  adminNetworkPolicy,
  applicationSet,
  cloudInitSecret,
  egressFirewall,
  type KubeObject,
  type KubeVirtWorkspace,
  namespaceResource,
  networkPolicy,
  rootDataVolume,
  virtualMachine,
} from './resources.ts';
import { channelUrlOf, type KubeVirtSettings } from './settings.ts';

// The kubevirt renderer: desired workspaces in, Kubernetes objects and files out. Output is
// deterministic (namespaces and workspaces in sorted order, keys in builder order), checked
// against the admission rules before it is returned, so a broken render writes nothing.

const PINNED = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;

export interface KubeVirtRenderInput {
  readonly workspaces: readonly KubeVirtWorkspace[];
  readonly settings: KubeVirtSettings;
  /** Desired-state files the supervisor reads, by repository-relative path; carried in cloud-init. */
  readonly desiredStateFiles: ReadonlyMap<string, string>;
}

/** One user's objects (its namespace directory) and the objects of the whole platform. */
export interface KubeVirtRender {
  /** Per namespace, in apply order: Namespace, NetworkPolicy, EgressFirewall, then per workspace Secret, DataVolume, VirtualMachine. */
  readonly namespaces: ReadonlyMap<string, readonly KubeObject[]>;
  /** AdminNetworkPolicy and ApplicationSet (when configured). */
  readonly platform: readonly KubeObject[];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The objects of one workspace (no namespace-wide ones). */
export function renderWorkspaceObjects(
  workspace: KubeVirtWorkspace,
  settings: KubeVirtSettings,
  desiredStateFiles: ReadonlyMap<string, string>,
): KubeObject[] {
  const image = workspace.profile.image;
  if (image === undefined || !PINNED.test(image))
    throw new PaddockError(
      'PDK_KUBEVIRT_IMAGE_NOT_PINNED',
      `profile ${workspace.profileName}: image ${image ?? '(none)'} is not pinned by @sha256 digest`,
    );
  const namespace = namespaceOf(settings.namespacePrefix, workspace.owner);
  const bootInput: CloudInitInput = {
    workspaceId: workspace.id,
    profile: workspace.profileName,
    blueprint: workspace.blueprint,
    channelUrl: channelUrlOf(settings),
    desiredStateFiles,
    settings,
    ...(workspace.releases
      ? { releases: checkReleaseAnchor(workspace.releases, `workspace ${workspace.id}`) }
      : {}),
  };
  // Windows: cloudbase-init user data (PowerShell) that configures and starts the supervisor
  // service of the golden image (docs/kubevirt.md, Windows workspaces).
  const userData =
    workspace.profile.os === 'windows' ? renderWindowsUserData(bootInput) : renderUserData(bootInput);
  return [
    cloudInitSecret(namespace, workspace, userData),
    rootDataVolume(namespace, workspace, settings),
    virtualMachine(namespace, workspace, settings),
  ];
}

/** The objects every workspace namespace holds once. */
export function renderNamespaceObjects(
  workspace: KubeVirtWorkspace,
  settings: KubeVirtSettings,
): KubeObject[] {
  const namespace = namespaceOf(settings.namespacePrefix, workspace.owner);
  return [
    namespaceResource(namespace, workspace),
    networkPolicy(namespace, workspace, settings),
    egressFirewall(namespace, workspace, settings),
  ];
}

/** Renders every workspace; PDK_KUBEVIRT_* when an input or the output breaks a rule. */
export function renderKubeVirt(input: KubeVirtRenderInput): KubeVirtRender {
  const ids = new Set<string>();
  const byNamespace = new Map<string, KubeVirtWorkspace[]>();
  for (const workspace of input.workspaces) {
    if (ids.has(workspace.id))
      throw new PaddockError('PDK_KUBEVIRT_RESOURCE_INVALID', `workspace ${workspace.id} is listed twice`);
    ids.add(workspace.id);
    const namespace = namespaceOf(input.settings.namespacePrefix, workspace.owner);
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), workspace]);
  }
  const namespaces = new Map<string, KubeObject[]>();
  for (const namespace of [...byNamespace.keys()].sort(compare)) {
    const workspaces = (byNamespace.get(namespace) ?? []).sort((a, b) => compare(a.id, b.id));
    const first = workspaces[0];
    if (!first) continue;
    namespaces.set(namespace, [
      ...renderNamespaceObjects(first, input.settings),
      ...workspaces.flatMap((workspace) =>
        renderWorkspaceObjects(workspace, input.settings, input.desiredStateFiles),
      ),
    ]);
  }
  const platform: KubeObject[] = [];
  if (input.settings.corporateCidrs.length > 0) platform.push(adminNetworkPolicy(input.settings));
  const appSet = applicationSet(input.settings);
  if (appSet) platform.push(appSet);
  assertAdmissible([...[...namespaces.values()].flat(), ...platform]);
  return { namespaces, platform };
}

const HEADER =
  '# Rendered by `paddock render kubevirt`. Do not edit: change the desired state and render again.\n';

/** YAML of one object, stable across runs. */
export function toYaml(object: KubeObject): string {
  return `${HEADER}${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** A file name for an object inside its directory: `<kind>-<name>.yaml`, lowercase. */
function fileNameOf(object: KubeObject): string {
  return `${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;
}

/**
 * The render as files relative to the output directory, in sorted order:
 * `users/<namespace>/<kind>-<name>.yaml` (one Argo CD Application each), `platform/<kind>-<name>.yaml`.
 */
export function renderFiles(render: KubeVirtRender): Map<string, string> {
  const files = new Map<string, string>();
  for (const [namespace, objects] of render.namespaces)
    for (const object of objects) files.set(`users/${namespace}/${fileNameOf(object)}`, toYaml(object));
  for (const object of render.platform) files.set(`platform/${fileNameOf(object)}`, toYaml(object));
  return new Map([...files].sort(([a], [b]) => compare(a, b)));
}
