import { z } from 'zod';
import { DNS_LABEL, DNS_SUBDOMAIN } from './names.ts';
import { CHANNEL_PATH } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';

// Where the kubevirt provider puts things on the cluster, and how the workspace VMs reach the
// control plane. Read from a YAML file (`paddock render kubevirt --settings FILE`, the Helm
// chart's `kubevirt` values); every field has a default except the GitOps repository URL,
// which the ApplicationSet needs only when it is rendered.

const dnsLabel = z
  .string()
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", 1-63 characters');

const labelMap = z.record(z.string().min(1).max(317), z.string().max(63));

const cidr = z
  .string()
  .regex(
    /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/,
    'must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8',
  );

const namedRef = z.strictObject({
  name: z
    .string()
    .max(253)
    .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain such as u1.2xlarge')
    .describe('Object name.'),
  kind: z
    .string()
    .min(1)
    .describe(
      'Kind, e.g. VirtualMachineClusterInstancetype or VirtualMachineClusterPreference (the cluster-wide ones).',
    ),
});

export const kubevirtSettingsSchema = z
  .strictObject({
    controlPlane: z
      .strictObject({
        namespace: dnsLabel.default('paddock').describe('Namespace of the control plane. Default paddock.'),
        service: dnsLabel
          .default('paddock')
          .describe('Service the supervisors dial (the chart names it after the release). Default paddock.'),
        channelPort: z
          .int()
          .min(1)
          .max(65535)
          .default(8080)
          .describe('Service port of the channel. Default 8080.'),
        scheme: z
          .enum(['ws', 'wss'])
          .default('ws')
          .describe(
            'ws inside the cluster network (OVN encrypts nothing: use wss with a service certificate to encrypt). Default ws.',
          ),
        podLabels: labelMap
          .default({ 'app.kubernetes.io/name': 'paddock' })
          .describe(
            'Labels of the control plane pods (NetworkPolicy egress target). Default app.kubernetes.io/name=paddock.',
          ),
      })
      .prefault({})
      .describe('The control plane the supervisors dial.'),
    dns: z
      .strictObject({
        namespace: dnsLabel
          .default('openshift-dns')
          .describe('Namespace of the cluster DNS pods. Default openshift-dns.'),
        podLabels: labelMap
          .default({ 'dns.operator.openshift.io/daemonset-dns': 'default' })
          .describe('Labels of the cluster DNS pods. Default the OpenShift DNS daemonset label.'),
        ports: z
          .array(z.int().min(1).max(65535))
          .min(1)
          .default([53, 5353])
          .describe('DNS ports (NetworkPolicy sees the pod port: 5353 on OpenShift). Default 53 and 5353.'),
      })
      .prefault({})
      .describe(
        'Cluster DNS, the only other egress a supervisor needs (to resolve the control plane service).',
      ),
    namespacePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be a short DNS label prefix, e.g. paddock-ws-')
      .default('paddock-ws-')
      .describe('Prefix of per-user namespaces. Default paddock-ws-.'),
    runStrategy: z
      .enum(['Always', 'Halted', 'Manual', 'RerunOnFailure'])
      .default('Halted')
      .describe('runStrategy of a rendered VM; the provider patches it to start and stop. Default Halted.'),
    instancetype: namedRef.optional().describe('Size VMs by this instancetype instead of the profile size.'),
    preference: namedRef.optional().describe('VM preference (firmware, devices) of Linux VMs. Default none.'),
    windowsPreference: namedRef
      .optional()
      .describe(
        'VM preference of Windows VMs (os: windows profiles), e.g. VirtualMachineClusterPreference windows.2k22.virtio. Default none.',
      ),
    domainOverrides: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        "Merged into every VM's spec.template.spec.domain (e.g. firmware, cpu.dedicatedCpuPlacement). Must not size the VM when an instancetype does. Default none.",
      ),
    storageClassName: z
      .string()
      .min(1)
      .optional()
      .describe('StorageClass of root disks. Default the cluster default.'),
    allowedEgressCidrs: z
      .array(cidr)
      .default([])
      .describe('External CIDRs the EgressFirewall allows before denying everything else. Default none.'),
    corporateCidrs: z
      .array(cidr)
      .max(2500)
      .default([])
      .describe(
        'CIDRs an AdminNetworkPolicy denies to every workspace namespace. Default none (no AdminNetworkPolicy).',
      ),
    adminNetworkPolicyPriority: z
      .int()
      .min(0)
      .max(1000)
      .default(10)
      .describe('Priority of that AdminNetworkPolicy (lower wins). Default 10.'),
    supervisor: z
      .strictObject({
        installDir: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]+$/)
          .default('/opt/paddock')
          .describe(
            'Where the golden image holds the Paddock release (with bin/paddock.js and its Node). Default /opt/paddock.',
          ),
        node: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]+$/)
          .default('/opt/paddock/node/bin/node')
          .describe('The pinned Node.js 24 in the golden image. Default /opt/paddock/node/bin/node.'),
      })
      .prefault({})
      .describe('The supervisor as installed in the golden image.'),
    gitops: z
      .strictObject({
        repoURL: z.string().min(1).describe('Git repository the rendered manifests are committed to.'),
        revision: z.string().min(1).default('main').describe('Branch or tag Argo CD follows. Default main.'),
        path: z
          .string()
          .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/)
          .default('rendered/kubevirt')
          .describe('Directory of the render output in that repository. Default rendered/kubevirt.'),
        argoNamespace: dnsLabel
          .default('openshift-gitops')
          .describe('Argo CD namespace. Default openshift-gitops.'),
        project: dnsLabel.default('default').describe('Argo CD project. Default default.'),
      })
      .optional()
      .describe('Argo CD ApplicationSet settings; without them no ApplicationSet is rendered.'),
  })
  .describe('Settings of the kubevirt provider.');

export type KubeVirtSettings = z.infer<typeof kubevirtSettingsSchema>;

/** Validated, defaulted settings; PDK_KUBEVIRT_SETTINGS_INVALID lists every problem as `path: message`. */
export function parseKubeVirtSettings(input: unknown): KubeVirtSettings {
  const result = kubevirtSettingsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new PaddockError('PDK_KUBEVIRT_SETTINGS_INVALID', `kubevirt settings: ${problems.join('; ')}`, {
    details: problems,
  });
}

/** The channel URL a workspace supervisor dials: the control plane's in-cluster service. */
export function channelUrlOf(settings: KubeVirtSettings): string {
  const { scheme, service, namespace, channelPort } = settings.controlPlane;
  return `${scheme}://${service}.${namespace}.svc.cluster.local:${channelPort}${CHANNEL_PATH}`;
}
