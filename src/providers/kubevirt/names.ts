import { createHash } from 'node:crypto';

// Names and labels of the objects a workspace gets. One namespace per user (its owner), one
// VirtualMachine per workspace inside it, named by the workspace id. Names are derived, never
// stored, so any replica finds a workspace's objects from its owner and id alone.

/** Labels Kubernetes allows: at most 63 characters, alphanumeric at both ends. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** RFC 1123 label: namespace and most object names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: the names of most other objects (e.g. instancetype u1.2xlarge). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  workspace: 'paddock.dev/workspace',
  owner: 'paddock.dev/owner',
  role: 'paddock.dev/role',
  /** On a workspace's revocation marker (`revokedMarkerName`): `true`. */
  revoked: 'paddock.dev/revoked',
} as const;

export const ANNOTATIONS = {
  ownerEmail: 'paddock.dev/owner-email',
  rootGeneration: 'paddock.dev/root-generation',
  profile: 'paddock.dev/profile',
  blueprint: 'paddock.dev/blueprint',
  /** The guest OS (`linux` or `windows`): the admission rules check Windows VMs' extra needs by it. */
  os: 'paddock.dev/os',
} as const;

/** Value of the `workspace-namespace` role label every workspace namespace carries (the AdminNetworkPolicy selects it). */
export const WORKSPACE_NAMESPACE_ROLE = 'workspace';
export const MANAGER = 'paddock';

/** 16 hex digits of SHA-256 of the lowercased e-mail: a label-safe owner key. */
export function ownerKey(owner: string): string {
  return createHash('sha256').update(owner.trim().toLowerCase()).digest('hex').slice(0, 16);
}

/** The user's namespace: prefix + sanitised local part (at most 20) + 8 hex of the owner key. */
export function namespaceOf(prefix: string, owner: string): string {
  const local = (owner.split('@')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20)
    .replace(/-+$/g, '');
  return `${prefix}${local ? `${local}-` : ''}${ownerKey(owner).slice(0, 8)}`;
}

export function vmName(workspaceId: string): string {
  return workspaceId;
}

export function rootDataVolumeName(workspaceId: string, generation: number): string {
  return `${workspaceId}-root-${generation}`;
}

export function cloudInitSecretName(workspaceId: string): string {
  return `${workspaceId}-cloud-init`;
}

/** The Secret holding the supervisor's channel identity: created at start, deleted on revoke; never rendered to Git. */
export function identitySecretName(workspaceId: string): string {
  return `${workspaceId}-identity`;
}

/**
 * The Secret (no data) that records in the cluster that a workspace was revoked: while one is in
 * a namespace, nothing re-opens that namespace's egress (a revoke cuts it for the whole namespace).
 */
export function revokedMarkerName(workspaceId: string): string {
  return `${workspaceId}-revoked`;
}

export const NETWORK_POLICY_NAME = 'paddock-default-deny';
/** OVN-Kubernetes only honours an EgressFirewall named `default`, one per namespace. */
export const EGRESS_FIREWALL_NAME = 'default';
export const ADMIN_NETWORK_POLICY_NAME = 'paddock-deny-corporate';
export const APPLICATION_SET_NAME = 'paddock-workspaces';
/** Serial of the identity disk: the guest finds it at /dev/disk/by-id/virtio-<serial>. */
export const IDENTITY_DISK_SERIAL = 'pdkidentity';
