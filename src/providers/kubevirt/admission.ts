import type { ErrorCode } from '../../core/errors.ts';
import { PaddockError } from '../../core/errors.ts';
import { ANNOTATIONS, DNS_LABEL, DNS_SUBDOMAIN, EGRESS_FIREWALL_NAME, LABEL_VALUE } from './names.ts';
import type { KubeObject } from './resources.ts';

// The admission rules the published schemas cannot express (webhooks, controllers and API
// server limits enforce them on a real cluster). The renderer runs every rule on its own
// output and refuses to write anything that breaks one; tests feed each rule a breaking input.

/** KubeVirt: `userData` / `userDataBase64` inline in the VM spec, at most 2048 bytes. */
export const INLINE_USER_DATA_MAX_BYTES = 2048;
/** Kubernetes: a Secret's data, at most 1 MiB. */
export const SECRET_MAX_BYTES = 1_048_576;
/** OVN-Kubernetes: rules in one EgressFirewall. */
export const EGRESS_FIREWALL_MAX_RULES = 8000;

export interface AdmissionViolation {
  readonly rule: string;
  readonly code: ErrorCode;
  /** `Kind namespace/name: what is wrong`. */
  readonly message: string;
}

export interface AdmissionRule {
  readonly name: string;
  check(objects: readonly KubeObject[]): AdmissionViolation[];
}

type Json = Record<string, unknown>;

function ref(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** The VMI spec of a VirtualMachine. */
function vmiSpec(vm: KubeObject): unknown {
  return field(vm, 'spec', 'template', 'spec');
}

function rule(name: string, check: AdmissionRule['check']): AdmissionRule {
  return { name, check };
}

export const ADMISSION_RULES: readonly AdmissionRule[] = [
  rule('cloud-init-inline-size', (objects) =>
    ofKind(objects, 'VirtualMachine').flatMap((vm) =>
      asArray(field(vmiSpec(vm), 'volumes')).flatMap((volume) => {
        const source = (volume['cloudInitNoCloud'] ?? volume['cloudInitConfigDrive']) as Json | undefined;
        if (!source) return [];
        const inline = typeof source['userData'] === 'string' ? Buffer.byteLength(source['userData']) : 0;
        const base64 =
          typeof source['userDataBase64'] === 'string'
            ? Buffer.from(source['userDataBase64'], 'base64').length
            : 0;
        const bytes = Math.max(inline, base64);
        return bytes > INLINE_USER_DATA_MAX_BYTES
          ? [
              {
                rule: 'cloud-init-inline-size',
                code: 'PDK_KUBEVIRT_CLOUD_INIT_TOO_LARGE' as const,
                message: `${ref(vm)}: inline user data of volume ${String(volume['name'])} is ${bytes} bytes, over the ${INLINE_USER_DATA_MAX_BYTES}-byte limit (use secretRef)`,
              },
            ]
          : [];
      }),
    ),
  ),
  rule('secret-size', (objects) =>
    ofKind(objects, 'Secret').flatMap((secret) => {
      const data = (secret['data'] ?? {}) as Record<string, string>;
      const bytes = Object.values(data).reduce((sum, value) => sum + Buffer.from(value, 'base64').length, 0);
      if (bytes <= SECRET_MAX_BYTES) return [];
      return [
        {
          rule: 'secret-size',
          code: ('userdata' in data
            ? 'PDK_KUBEVIRT_CLOUD_INIT_TOO_LARGE'
            : 'PDK_KUBEVIRT_RESOURCE_INVALID') as ErrorCode,
          message: `${ref(secret)}: data is ${bytes} bytes, over the ${SECRET_MAX_BYTES}-byte Secret limit`,
        },
      ];
    }),
  ),
  rule('instancetype-excludes-explicit-resources', (objects) =>
    ofKind(objects, 'VirtualMachine').flatMap((vm) => {
      if (field(vm, 'spec', 'instancetype') === undefined) return [];
      const domain = field(vmiSpec(vm), 'domain');
      const explicit = [
        field(domain, 'cpu') !== undefined ? 'domain.cpu' : '',
        field(domain, 'memory') !== undefined ? 'domain.memory' : '',
        field(domain, 'resources', 'requests', 'cpu') !== undefined ? 'domain.resources.requests.cpu' : '',
        field(domain, 'resources', 'requests', 'memory') !== undefined
          ? 'domain.resources.requests.memory'
          : '',
        field(domain, 'resources', 'limits', 'cpu') !== undefined ? 'domain.resources.limits.cpu' : '',
        field(domain, 'resources', 'limits', 'memory') !== undefined ? 'domain.resources.limits.memory' : '',
      ].filter(Boolean);
      return explicit.length === 0
        ? []
        : [
            {
              rule: 'instancetype-excludes-explicit-resources',
              code: 'PDK_KUBEVIRT_SIZING_CONFLICT' as const,
              message: `${ref(vm)}: has an instancetype and also sets ${explicit.join(', ')}`,
            },
          ];
    }),
  ),
  // KubeVirt's VMI admission webhook: EFI Secure Boot (on by default with EFI) needs SMM enabled.
  rule('efi-secure-boot-requires-smm', (objects) =>
    ofKind(objects, 'VirtualMachine').flatMap((vm) => {
      const domain = field(vmiSpec(vm), 'domain');
      const efi = field(domain, 'firmware', 'bootloader', 'efi');
      if (efi === undefined || field(efi, 'secureBoot') === false) return [];
      const smm = field(domain, 'features', 'smm');
      return smm !== undefined && field(smm, 'enabled') !== false
        ? []
        : [
            {
              rule: 'efi-secure-boot-requires-smm',
              code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
              message: `${ref(vm)}: EFI Secure Boot needs features.smm enabled`,
            },
          ];
    }),
  ),
  // cloudbase-init reads a ConfigDrive, not NoCloud: a Windows VM given NoCloud boots unconfigured.
  rule('windows-user-data-on-config-drive', (objects) =>
    ofKind(objects, 'VirtualMachine')
      .filter((vm) => vm.metadata.annotations?.[ANNOTATIONS.os] === 'windows')
      .flatMap((vm) => {
        const volumes = asArray(field(vmiSpec(vm), 'volumes'));
        const noCloud = volumes.some((volume) => volume['cloudInitNoCloud'] !== undefined);
        const configDrive = volumes.filter((volume) => volume['cloudInitConfigDrive'] !== undefined);
        const bySecret =
          configDrive.length === 1 && field(configDrive[0], 'cloudInitConfigDrive', 'secretRef', 'name');
        return !noCloud && typeof bySecret === 'string' && bySecret.length > 0
          ? []
          : [
              {
                rule: 'windows-user-data-on-config-drive',
                code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
                message: `${ref(vm)}: a Windows VM takes its user data from one cloudInitConfigDrive volume by secretRef (cloudbase-init), never cloudInitNoCloud`,
              },
            ];
      }),
  ),
  rule('egress-firewall-name', (objects) =>
    ofKind(objects, 'EgressFirewall')
      .filter((firewall) => firewall.metadata.name !== EGRESS_FIREWALL_NAME)
      .map((firewall) => ({
        rule: 'egress-firewall-name',
        code: 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID' as const,
        message: `${ref(firewall)}: OVN-Kubernetes only enforces an EgressFirewall named "${EGRESS_FIREWALL_NAME}"`,
      })),
  ),
  rule('egress-firewall-one-per-namespace', (objects) => {
    const seen = new Map<string, number>();
    for (const firewall of ofKind(objects, 'EgressFirewall')) {
      const namespace = firewall.metadata.namespace ?? '';
      seen.set(namespace, (seen.get(namespace) ?? 0) + 1);
    }
    return [...seen]
      .filter(([, count]) => count > 1)
      .map(([namespace, count]) => ({
        rule: 'egress-firewall-one-per-namespace',
        code: 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID' as const,
        message: `namespace ${namespace}: ${count} EgressFirewalls, OVN-Kubernetes allows one`,
      }));
  }),
  rule('egress-firewall-rule-count', (objects) =>
    ofKind(objects, 'EgressFirewall').flatMap((firewall) => {
      const count = asArray(field(firewall, 'spec', 'egress')).length;
      return count > EGRESS_FIREWALL_MAX_RULES
        ? [
            {
              rule: 'egress-firewall-rule-count',
              code: 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID' as const,
              message: `${ref(firewall)}: ${count} rules, over the limit of ${EGRESS_FIREWALL_MAX_RULES}`,
            },
          ]
        : [];
    }),
  ),
  rule('egress-firewall-ends-in-deny-all', (objects) =>
    ofKind(objects, 'EgressFirewall').flatMap((firewall) => {
      const rules = asArray(field(firewall, 'spec', 'egress'));
      const denied = new Set(
        rules
          .slice(-2)
          .flatMap((entry) => (entry['type'] === 'Deny' ? [String(field(entry, 'to', 'cidrSelector'))] : [])),
      );
      return denied.has('0.0.0.0/0') && denied.has('::/0')
        ? []
        : [
            {
              rule: 'egress-firewall-ends-in-deny-all',
              code: 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID' as const,
              message: `${ref(firewall)}: must end with Deny 0.0.0.0/0 and Deny ::/0 (fail closed)`,
            },
          ];
    }),
  ),
  rule('image-pinned-by-digest', (objects) =>
    ofKind(objects, 'DataVolume').flatMap((volume) => {
      const url = field(volume, 'spec', 'source', 'registry', 'url');
      return typeof url === 'string' && /^docker:\/\/[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/.test(url)
        ? []
        : [
            {
              rule: 'image-pinned-by-digest',
              code: 'PDK_KUBEVIRT_IMAGE_NOT_PINNED' as const,
              message: `${ref(volume)}: source ${String(url)} is not a registry image pinned by @sha256 digest`,
            },
          ];
    }),
  ),
  rule('masquerade-on-pod-network', (objects) =>
    ofKind(objects, 'VirtualMachine').flatMap((vm) => {
      const spec = vmiSpec(vm);
      const networks = new Map(asArray(field(spec, 'networks')).map((network) => [network['name'], network]));
      const interfaces = asArray(field(spec, 'domain', 'devices', 'interfaces'));
      const broken = interfaces.filter(
        (binding) =>
          binding['masquerade'] === undefined || field(networks.get(binding['name']), 'pod') === undefined,
      );
      return broken.length === 0 && interfaces.length > 0
        ? []
        : [
            {
              rule: 'masquerade-on-pod-network',
              code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
              message: `${ref(vm)}: every interface must be a masquerade binding on the pod network`,
            },
          ];
    }),
  ),
  rule('disks-match-volumes', (objects) =>
    ofKind(objects, 'VirtualMachine').flatMap((vm) => {
      const spec = vmiSpec(vm);
      const disks = asArray(field(spec, 'domain', 'devices', 'disks')).map((disk) => String(disk['name']));
      const volumes = asArray(field(spec, 'volumes')).map((volume) => String(volume['name']));
      const unmatched = [
        ...disks.filter((name) => !volumes.includes(name)),
        ...volumes.filter((name) => !disks.includes(name)),
      ];
      return unmatched.length === 0
        ? []
        : [
            {
              rule: 'disks-match-volumes',
              code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
              message: `${ref(vm)}: disks and volumes must pair by name (unpaired: ${unmatched.join(', ')})`,
            },
          ];
    }),
  ),
  rule('names-and-labels', (objects) =>
    objects.flatMap((object) => {
      const problems: string[] = [];
      const { name, namespace, labels } = object.metadata;
      // Namespaces and VMs (the VM name becomes the guest's hostname) need a label; the rest a subdomain.
      const label = object.kind === 'Namespace' || object.kind === 'VirtualMachine';
      if (label ? !DNS_LABEL.test(name) || name.length > 63 : !DNS_SUBDOMAIN.test(name) || name.length > 253)
        problems.push(
          `name "${name}" is not a DNS ${label ? 'label of at most 63' : 'subdomain of at most 253'} characters`,
        );
      if (namespace !== undefined && (!DNS_LABEL.test(namespace) || namespace.length > 63))
        problems.push(`namespace "${namespace}" is not a DNS label of at most 63 characters`);
      for (const [key, value] of Object.entries(labels ?? {}))
        if (value.length > 63 || !LABEL_VALUE.test(value))
          problems.push(`label ${key}="${value}" is not a valid label value`);
      return problems.map((problem) => ({
        rule: 'names-and-labels',
        code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
        message: `${ref(object)}: ${problem}`,
      }));
    }),
  ),
  rule('admin-network-policy-cidr-family', (objects) =>
    ofKind(objects, 'AdminNetworkPolicy').flatMap((policy) =>
      asArray(field(policy, 'spec', 'egress'))
        .flatMap((entry) => asArray(entry['to']))
        .flatMap((peer) => (Array.isArray(peer['networks']) ? (peer['networks'] as string[]) : []))
        // The CRD's CEL rule: IPv4 or IPv6, never an IPv4 address embedded in IPv6.
        .filter((network) => network.includes(':') === network.includes('.'))
        .map((network) => ({
          rule: 'admin-network-policy-cidr-family',
          code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
          message: `${ref(policy)}: CIDR ${network} must be plain IPv4 or IPv6`,
        })),
    ),
  ),
  rule('network-policy-default-deny', (objects) =>
    ofKind(objects, 'NetworkPolicy').flatMap((policy) => {
      const selector = field(policy, 'spec', 'podSelector');
      const types = asArray(field(policy, 'spec', 'policyTypes')) as unknown[];
      const selectsAll =
        selector !== null && typeof selector === 'object' && Object.keys(selector).length === 0;
      const ingress = asArray(field(policy, 'spec', 'ingress'));
      return selectsAll && types.includes('Ingress') && types.includes('Egress') && ingress.length === 0
        ? []
        : [
            {
              rule: 'network-policy-default-deny',
              code: 'PDK_KUBEVIRT_RESOURCE_INVALID' as const,
              message: `${ref(policy)}: must select every pod, cover Ingress and Egress, and allow no ingress`,
            },
          ];
    }),
  ),
];

/** Every violation of every rule, in rule order. */
export function admissionViolations(objects: readonly KubeObject[]): AdmissionViolation[] {
  return ADMISSION_RULES.flatMap((entry) => entry.check(objects));
}

/** Throws the first violation's code, with every violation in the message and details. */
export function assertAdmissible(objects: readonly KubeObject[]): void {
  const violations = admissionViolations(objects);
  const first = violations[0];
  if (!first) return;
  throw new PaddockError(
    first.code,
    `rendered resources break ${violations.length} admission rule(s): ${violations.map((v) => `[${v.rule}] ${v.message}`).join('; ')}`,
    { details: violations },
  );
}
