import type { Profile } from '../../config/index.ts';
import type { ReleaseAnchor } from '../release-anchor.ts';
import { IDENTITY_KEY } from './cloud-init.ts';
import {
  ADMIN_NETWORK_POLICY_NAME,
  ANNOTATIONS,
  APPLICATION_SET_NAME,
  cloudInitSecretName,
  EGRESS_FIREWALL_NAME,
  IDENTITY_DISK_SERIAL,
  identitySecretName,
  LABELS,
  MANAGER,
  NETWORK_POLICY_NAME,
  ownerKey,
  revokedMarkerName,
  rootDataVolumeName,
  vmName,
  WORKSPACE_NAMESPACE_ROLE,
} from './names.ts';
import type { KubeVirtSettings } from './settings.ts';

// One builder per resource a workspace gets. Pure functions of their inputs; key order is the
// order written here, so the YAML is stable. admission.ts checks what these produce.

/** The shape every Kubernetes object shares (enough for rendering and applying). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** A kubevirt workspace as the renderer needs it. */
export interface KubeVirtWorkspace {
  /** The workspace id (a DNS label, e.g. ws-0123456789ab): names the VM. */
  readonly id: string;
  /** The owner's e-mail: names the namespace. */
  readonly owner: string;
  readonly profileName: string;
  readonly profile: Profile['spec'];
  readonly blueprint: string;
  /** Root disk generation; a rebuild renders generation + 1 (a new DataVolume). Default 1. */
  readonly rootGeneration?: number;
  /** The signed release channel its supervisor follows, with the channel's root (docs/releases.md). */
  readonly releases?: ReleaseAnchor;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `overrides` deep-merged over `base`; `base` wins on devices and other keys Paddock must own. */
function mergeDeep(overrides: Plain, base: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (key === 'devices') continue; // disks and the network binding are the boundary: never overridden
    const current = out[key];
    out[key] = isPlain(current) && isPlain(value) ? { ...value, ...current } : (current ?? value);
  }
  return out;
}

function commonLabels(workspace: KubeVirtWorkspace): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGER,
    [LABELS.owner]: ownerKey(workspace.owner),
  };
}

export function namespaceResource(namespace: string, workspace: KubeVirtWorkspace): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: { ...commonLabels(workspace), [LABELS.role]: WORKSPACE_NAMESPACE_ROLE },
      annotations: { [ANNOTATIONS.ownerEmail]: workspace.owner },
    },
  };
}

/** The golden image by digest, imported by CDI from the registry into the root disk. */
export function rootDataVolume(
  namespace: string,
  workspace: KubeVirtWorkspace,
  settings: KubeVirtSettings,
): KubeObject {
  const generation = workspace.rootGeneration ?? 1;
  return {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: {
      name: rootDataVolumeName(workspace.id, generation),
      namespace,
      labels: { ...commonLabels(workspace), [LABELS.workspace]: workspace.id },
      annotations: { [ANNOTATIONS.rootGeneration]: String(generation) },
    },
    spec: {
      source: { registry: { url: `docker://${workspace.profile.image ?? ''}` } },
      storage: {
        accessModes: ['ReadWriteOnce'],
        ...(settings.storageClassName ? { storageClassName: settings.storageClassName } : {}),
        resources: { requests: { storage: `${workspace.profile.size.diskGiB}Gi` } },
      },
    },
  };
}

export function cloudInitSecret(
  namespace: string,
  workspace: KubeVirtWorkspace,
  userData: string,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: cloudInitSecretName(workspace.id),
      namespace,
      labels: { ...commonLabels(workspace), [LABELS.workspace]: workspace.id },
    },
    type: 'Opaque',
    data: { userdata: Buffer.from(userData, 'utf8').toString('base64') },
  };
}

/** The supervisor's channel identity (never rendered to Git: the provider applies it at start). */
export function identitySecret(
  namespace: string,
  workspaceId: string,
  owner: string,
  identityJson: string,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: identitySecretName(workspaceId),
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGER,
        [LABELS.owner]: ownerKey(owner),
        [LABELS.workspace]: workspaceId,
      },
    },
    type: 'Opaque',
    data: { [IDENTITY_KEY]: Buffer.from(identityJson, 'utf8').toString('base64') },
  };
}

/**
 * The revocation marker of a workspace: written first by a revoke, removed only by destroy. Every
 * apply in its namespace reads these markers before and after it writes (kubevirt-provider.ts).
 */
export function revokedMarker(namespace: string, workspaceId: string, owner: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: revokedMarkerName(workspaceId),
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGER,
        [LABELS.owner]: ownerKey(owner),
        [LABELS.workspace]: workspaceId,
        [LABELS.revoked]: 'true',
      },
    },
    type: 'Opaque',
  };
}

/**
 * What a Windows guest needs beyond a Linux one, as KubeVirt's Windows guidance sets it: Hyper-V
 * enlightenments (Windows runs badly without them), the clock Windows expects (UTC, no HPET, PIT
 * delay, RTC catch-up, the Hyper-V timer), and UEFI Secure Boot, which needs SMM. The vTPM
 * (`devices.tpm`) is not persistent: that needs a VM state storage class on the cluster.
 */
const WINDOWS_DOMAIN = {
  clock: {
    utc: {},
    timer: {
      hpet: { present: false },
      pit: { tickPolicy: 'delay' },
      rtc: { tickPolicy: 'catchup' },
      hyperv: {},
    },
  },
  features: {
    acpi: {},
    apic: {},
    smm: { enabled: true },
    hyperv: {
      relaxed: {},
      vapic: {},
      spinlocks: { spinlocks: 8191 },
      vpindex: {},
      runtime: {},
      synic: {},
      synictimer: { direct: {} },
      tlbflush: {},
      frequencies: {},
      reenlightenment: {},
      ipi: {},
      reset: {},
    },
  },
  firmware: { bootloader: { efi: { secureBoot: true } } },
} as const;

export function virtualMachine(
  namespace: string,
  workspace: KubeVirtWorkspace,
  settings: KubeVirtSettings,
): KubeObject {
  const generation = workspace.rootGeneration ?? 1;
  const { size } = workspace.profile;
  const sizing = settings.instancetype
    ? {
        instancetype: { kind: settings.instancetype.kind, name: settings.instancetype.name },
      }
    : {};
  const windows = workspace.profile.os === 'windows';
  // A Windows guest takes the Windows preference (a Linux one would set the wrong devices).
  const preferred = windows ? settings.windowsPreference : settings.preference;
  const preference = preferred ? { preference: { kind: preferred.kind, name: preferred.name } } : {};
  // Explicit resources only without an instancetype: KubeVirt rejects a VM that sets both.
  const domainSizing = settings.instancetype
    ? {}
    : { cpu: { cores: size.cpus, sockets: 1, threads: 1 }, memory: { guest: `${size.memoryMiB}Mi` } };
  const labels = { ...commonLabels(workspace), [LABELS.workspace]: workspace.id };
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name: vmName(workspace.id),
      namespace,
      labels,
      annotations: {
        [ANNOTATIONS.profile]: workspace.profileName,
        [ANNOTATIONS.blueprint]: workspace.blueprint,
        [ANNOTATIONS.rootGeneration]: String(generation),
        [ANNOTATIONS.os]: workspace.profile.os,
      },
    },
    spec: {
      runStrategy: settings.runStrategy,
      ...sizing,
      ...preference,
      template: {
        metadata: { labels },
        spec: {
          domain: mergeDeep(settings.domainOverrides, {
            ...domainSizing,
            ...(windows ? WINDOWS_DOMAIN : {}),
            devices: {
              disks: windows
                ? [
                    // The golden image carries the virtio-win drivers; cloudbase-init looks for
                    // its config drive on a CD-ROM, and Windows reads ISO 9660 there natively.
                    { name: 'root', disk: { bus: 'virtio' }, bootOrder: 1 },
                    { name: 'cloudinit', cdrom: { bus: 'sata' } },
                    { name: 'identity', cdrom: { bus: 'sata' }, serial: IDENTITY_DISK_SERIAL },
                  ]
                : [
                    { name: 'root', disk: { bus: 'virtio' }, bootOrder: 1 },
                    { name: 'cloudinit', disk: { bus: 'virtio' } },
                    { name: 'identity', disk: { bus: 'virtio' }, serial: IDENTITY_DISK_SERIAL },
                  ],
              interfaces: [{ name: 'default', masquerade: {} }],
              ...(windows ? { tpm: {} } : {}),
            },
          }),
          networks: [{ name: 'default', pod: {} }],
          terminationGracePeriodSeconds: 60,
          volumes: [
            { name: 'root', dataVolume: { name: rootDataVolumeName(workspace.id, generation) } },
            // cloudbase-init (Windows) reads the ConfigDrive source; cloud-init (Linux) NoCloud.
            windows
              ? {
                  name: 'cloudinit',
                  cloudInitConfigDrive: { secretRef: { name: cloudInitSecretName(workspace.id) } },
                }
              : {
                  name: 'cloudinit',
                  cloudInitNoCloud: { secretRef: { name: cloudInitSecretName(workspace.id) } },
                },
            { name: 'identity', secret: { secretName: identitySecretName(workspace.id) } },
          ],
        },
      },
    },
  };
}

/**
 * Default deny in both directions; egress only to the control plane's channel and to cluster
 * DNS. `revoked` drops both egress rules: the VM can reach nothing.
 */
export function networkPolicy(
  namespace: string,
  workspace: KubeVirtWorkspace | { readonly owner: string },
  settings: KubeVirtSettings,
  options: { readonly revoked?: boolean } = {},
): KubeObject {
  const egress = options.revoked
    ? []
    : [
        {
          to: [
            {
              namespaceSelector: {
                matchLabels: { 'kubernetes.io/metadata.name': settings.controlPlane.namespace },
              },
              podSelector: { matchLabels: { ...settings.controlPlane.podLabels } },
            },
          ],
          ports: [{ protocol: 'TCP', port: settings.controlPlane.channelPort }],
        },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': settings.dns.namespace } },
              podSelector: { matchLabels: { ...settings.dns.podLabels } },
            },
          ],
          ports: settings.dns.ports.flatMap((port) => [
            { protocol: 'UDP', port },
            { protocol: 'TCP', port },
          ]),
        },
      ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: NETWORK_POLICY_NAME,
      namespace,
      labels: { [LABELS.managedBy]: MANAGER, [LABELS.owner]: ownerKey(workspace.owner) },
    },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress,
    },
  };
}

/** Traffic leaving the cluster: the allowed CIDRs (if any), then deny everything. */
export function egressFirewall(
  namespace: string,
  workspace: KubeVirtWorkspace,
  settings: KubeVirtSettings,
): KubeObject {
  return {
    apiVersion: 'k8s.ovn.org/v1',
    kind: 'EgressFirewall',
    metadata: {
      name: EGRESS_FIREWALL_NAME,
      namespace,
      labels: { [LABELS.managedBy]: MANAGER, [LABELS.owner]: ownerKey(workspace.owner) },
    },
    spec: {
      egress: [
        ...settings.allowedEgressCidrs.map((cidrSelector) => ({ type: 'Allow', to: { cidrSelector } })),
        { type: 'Deny', to: { cidrSelector: '0.0.0.0/0' } },
        { type: 'Deny', to: { cidrSelector: '::/0' } },
      ],
    },
  };
}

/** AdminNetworkPolicy v1alpha1: CIDRs in one `networks` peer. */
export const ANP_NETWORKS_PER_PEER = 25;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

/** Cluster-wide: every workspace namespace is denied the corporate CIDRs, whatever its own policies say. */
export function adminNetworkPolicy(settings: KubeVirtSettings): KubeObject {
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: ADMIN_NETWORK_POLICY_NAME, labels: { [LABELS.managedBy]: MANAGER } },
    spec: {
      priority: settings.adminNetworkPolicyPriority,
      subject: { namespaces: { matchLabels: { [LABELS.role]: WORKSPACE_NAMESPACE_ROLE } } },
      egress: [
        {
          name: 'deny-corporate-networks',
          action: 'Deny',
          // A `networks` peer holds at most 25 CIDRs.
          to: chunk(settings.corporateCidrs, ANP_NETWORKS_PER_PEER).map((networks) => ({ networks })),
        },
      ],
    },
  };
}

/** One Argo CD Application per user directory of the render output (rendered-manifests pattern). */
export function applicationSet(settings: KubeVirtSettings): KubeObject | undefined {
  const gitops = settings.gitops;
  if (!gitops) return undefined;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: {
      name: APPLICATION_SET_NAME,
      namespace: gitops.argoNamespace,
      labels: { [LABELS.managedBy]: MANAGER },
    },
    spec: {
      goTemplate: true,
      goTemplateOptions: ['missingkey=error'],
      generators: [
        {
          git: {
            repoURL: gitops.repoURL,
            revision: gitops.revision,
            directories: [{ path: `${gitops.path}/users/*` }],
          },
        },
      ],
      template: {
        metadata: { name: 'paddock-{{.path.basename}}', labels: { [LABELS.managedBy]: MANAGER } },
        spec: {
          project: gitops.project,
          source: { repoURL: gitops.repoURL, targetRevision: gitops.revision, path: '{{.path.path}}' },
          destination: { server: 'https://kubernetes.default.svc', namespace: '{{.path.basename}}' },
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            syncOptions: ['ServerSideApply=true', 'RespectIgnoreDifferences=true'],
          },
          // Start and stop patch runStrategy; Argo CD must not undo them.
          ignoreDifferences: [
            { group: 'kubevirt.io', kind: 'VirtualMachine', jsonPointers: ['/spec/runStrategy'] },
          ],
        },
      },
    },
  };
}
