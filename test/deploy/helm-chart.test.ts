import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { channelUrlOf, parseKubeVirtSettings, renderKubeVirt } from '../../src/providers/kubevirt/index.ts';
import { fixtureInput } from '../providers/kubevirt/render-fixture.ts';
import { schemaErrors } from '../support/kube-schemas.ts';
import { renderChart } from './helm-template.ts';
import { HEALTH_PATH } from '../../src/controlplane/http/server.ts';
import { DEFAULT_AUDIT_KEY_FILE } from '../../src/controlplane/cluster/audit-leader.ts';
import { DEFAULT_RELEASE_KEYS_DIR } from '../../src/controlplane/cluster/cluster-releases.ts';
import { publicKeyPathFor } from '../../src/audit/index.ts';

// The Helm chart, rendered by test/deploy/helm-template.ts (the subset of Go templates the
// chart uses; no helm binary here), checked against the Kubernetes and OpenShift schemas and
// against OpenShift's restricted-v2 SCC on every pod spec.

const CHART = fileURLToPath(new URL('../../deploy/helm/paddock/', import.meta.url));
const RELEASE = { name: 'paddock', namespace: 'paddock' };

// biome-ignore lint/suspicious/noExplicitAny: rendered documents
type Json = Record<string, any>;

/** Volume types restricted-v2 allows. */
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'downwardAPI',
  'emptyDir',
  'persistentVolumeClaim',
  'projected',
  'secret',
  'csi',
  'ephemeral',
]);

/** Every way a pod spec breaks OpenShift's restricted-v2 SCC (empty when it does not). */
export function restrictedV2Violations(pod: Json): string[] {
  const problems: string[] = [];
  const podContext = pod['securityContext'] ?? {};
  if (podContext['runAsNonRoot'] !== true) problems.push('pod: runAsNonRoot must be true');
  if (podContext['seccompProfile']?.['type'] !== 'RuntimeDefault')
    problems.push('pod: seccompProfile must be RuntimeDefault');
  for (const fixed of ['runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups'])
    if (podContext[fixed] !== undefined) problems.push(`pod: ${fixed} is fixed (restricted-v2 assigns it)`);
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (pod[host] === true) problems.push(`pod: ${host}`);
  for (const volume of pod['volumes'] ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!type || !RESTRICTED_VOLUMES.has(type))
      problems.push(`volume ${volume['name']}: type ${type} not allowed`);
  }
  for (const container of [...(pod['initContainers'] ?? []), ...(pod['containers'] ?? [])]) {
    const name = `container ${container['name']}`;
    const context = container['securityContext'] ?? {};
    if (context['privileged'] === true) problems.push(`${name}: privileged`);
    if (context['allowPrivilegeEscalation'] !== false)
      problems.push(`${name}: allowPrivilegeEscalation must be false`);
    if (!(context['capabilities']?.['drop'] ?? []).includes('ALL'))
      problems.push(`${name}: must drop ALL capabilities`);
    const added = (context['capabilities']?.['add'] ?? []).filter(
      (cap: string) => cap !== 'NET_BIND_SERVICE',
    );
    if (added.length > 0) problems.push(`${name}: adds capabilities ${added.join(', ')}`);
    if (context['readOnlyRootFilesystem'] !== true)
      problems.push(`${name}: readOnlyRootFilesystem must be true`);
    for (const fixed of ['runAsUser', 'runAsGroup'])
      if (context[fixed] !== undefined) problems.push(`${name}: ${fixed} is fixed`);
    if (context['seccompProfile'] && context['seccompProfile']['type'] !== 'RuntimeDefault')
      problems.push(`${name}: seccompProfile must be RuntimeDefault`);
    for (const port of container['ports'] ?? [])
      if (port['hostPort'] !== undefined) problems.push(`${name}: hostPort`);
  }
  return problems;
}

function podSpecs(documents: { object: Json }[]): Json[] {
  return documents.flatMap(({ object }) => {
    const template =
      object['spec']?.['template']?.['spec'] ??
      object['spec']?.['jobTemplate']?.['spec']?.['template']?.['spec'];
    return object['kind'] === 'Pod' ? [object['spec']] : template ? [template] : [];
  });
}

describe('the Helm chart (rendered by the test template subset)', () => {
  const documents = renderChart(CHART, RELEASE) as { file: string; object: Json }[];
  const byKind = (kind: string) =>
    documents.filter((document) => document.object['kind'] === kind).map((d) => d.object);

  it('the template subset: trimming, if, range, pipelines; anything else is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-chart-'));
    try {
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 1.0.0\nappVersion: "2"\n');
      writeFileSync(join(dir, 'values.yaml'), 'list: [a, b]\non: false\nmap: { k: v }\n');
      writeFileSync(
        join(dir, 'templates', 'a.yaml'),
        'kind: X\nitems:\n{{- range .Values.list }}\n  - {{ . | quote }}\n{{- end }}\n{{- if .Values.on }}\nhidden: true\n{{- end }}\nmap: {{- toYaml .Values.map | nindent 2 }}\nv: {{ .Chart.AppVersion | quote }}\n',
      );
      assert.deepEqual(renderChart(dir, RELEASE)[0]?.object, {
        kind: 'X',
        items: ['a', 'b'],
        map: { k: 'v' },
        v: '2',
      });
      writeFileSync(join(dir, 'templates', 'a.yaml'), 'kind: {{ include "x" . }}\n');
      assert.throws(() => renderChart(dir, RELEASE), /outside the subset/);
      writeFileSync(join(dir, 'templates', 'a.yaml'), 'kind: {{ .Values.missing }}\n');
      assert.throws(() => renderChart(dir, RELEASE), /has no value/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders the expected objects, each valid against the Kubernetes / OpenShift schemas', () => {
    assert.deepEqual(documents.map((document) => document.object['kind']).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Route',
      'Service',
      'ServiceAccount',
    ]);
    for (const { file, object } of documents)
      assert.deepEqual(schemaErrors(object), [], `${file}: ${object['kind']}`);
    const withHost = renderChart(CHART, RELEASE, { route: { host: 'paddock.apps.example.com' } });
    const route = withHost.find((document) => document.object['kind'] === 'Route')?.object as
      | Json
      | undefined;
    assert.equal(route?.['spec']['host'], 'paddock.apps.example.com');
    assert.deepEqual(schemaErrors(route ?? {}), []);
    const withoutRoute = renderChart(CHART, RELEASE, { route: { enabled: false } });
    assert.equal(withoutRoute.filter((document) => document.object['kind'] === 'Route').length, 0);
  });

  it('every pod spec passes restricted-v2: non-root, no escalation, drop ALL, RuntimeDefault, no hostPath, no fixed UIDs', () => {
    const pods = podSpecs(documents);
    assert.ok(pods.length > 0);
    for (const pod of pods) assert.deepEqual(restrictedV2Violations(pod), []);
  });

  it('the restricted-v2 check is live: each break is caught', () => {
    const pod = structuredClone(podSpecs(documents)[0]!);
    pod['securityContext']['runAsUser'] = 1000;
    pod['hostNetwork'] = true;
    pod['volumes'].push({ name: 'host', hostPath: { path: '/var/run' } });
    const container = pod['containers'][0];
    container['securityContext']['allowPrivilegeEscalation'] = true;
    container['securityContext']['capabilities'] = { drop: [], add: ['NET_ADMIN'] };
    container['securityContext']['readOnlyRootFilesystem'] = false;
    container['securityContext']['privileged'] = true;
    assert.deepEqual(restrictedV2Violations(pod), [
      'pod: runAsUser is fixed (restricted-v2 assigns it)',
      'pod: hostNetwork',
      'volume host: type hostPath not allowed',
      'container control-plane: privileged',
      'container control-plane: allowPrivilegeEscalation must be false',
      'container control-plane: must drop ALL capabilities',
      'container control-plane: adds capabilities NET_ADMIN',
      'container control-plane: readOnlyRootFilesystem must be true',
    ]);
  });

  it('the ClusterRole grants what the kubevirt provider does (server-side apply is the patch verb)', () => {
    const rules = byKind('ClusterRole')[0]?.['rules'] as Json[];
    const allows = (group: string, resource: string, verb: string) =>
      rules.some(
        (rule) =>
          rule['apiGroups'].includes(group) &&
          rule['resources'].includes(resource) &&
          rule['verbs'].includes(verb),
      );
    const needed: [string, string, string[]][] = [
      ['', 'namespaces', ['get', 'list', 'patch', 'delete']],
      ['', 'secrets', ['get', 'list', 'patch', 'delete']],
      ['kubevirt.io', 'virtualmachines', ['get', 'list', 'patch', 'delete']],
      ['kubevirt.io', 'virtualmachineinstances', ['delete']],
      ['cdi.kubevirt.io', 'datavolumes', ['get', 'list', 'patch', 'delete']],
      ['networking.k8s.io', 'networkpolicies', ['get', 'list', 'patch', 'delete']],
      ['k8s.ovn.org', 'egressfirewalls', ['get', 'list', 'patch', 'delete']],
      ['policy.networking.k8s.io', 'adminnetworkpolicies', ['get', 'list', 'patch']],
    ];
    for (const [group, resource, verbs] of needed)
      for (const verb of verbs) assert.ok(allows(group, resource, verb), `${verb} ${group}/${resource}`);
    assert.ok(
      !rules.some((rule) => rule['verbs'].includes('*') || rule['resources'].includes('*')),
      'no wildcards',
    );
  });

  it('two or more replicas on PostgreSQL: the URL comes from a Secret, never a literal', () => {
    const [deployment] = byKind('Deployment');
    assert.ok(deployment);
    assert.ok(deployment['spec']['replicas'] >= 2);
    const env = deployment['spec']['template']['spec']['containers'][0]['env'] as Json[];
    const database = env.find((entry) => entry['name'] === 'PADDOCK_DATABASE_URL');
    assert.deepEqual(database?.['valueFrom'], { secretKeyRef: { name: 'paddock-database', key: 'url' } });
    assert.ok(!JSON.stringify(documents).includes('postgres://'));
    assert.ok(byKind('PodDisruptionBudget')[0]?.['spec']['minAvailable'] >= 1);
    assert.match(deployment['spec']['template']['spec']['containers'][0]['image'], /@sha256:[0-9a-f]{64}$/);
  });

  it('the container runs the cluster control plane (paddock serve) and its probes hit GET /healthz', () => {
    const withOptions = renderChart(CHART, RELEASE, {
      publicUrl: 'https://paddock.apps.example.com',
      reconciler: { approvedBy: 'platform-team@example.com' },
    });
    const deployment = withOptions.find((document) => document.object['kind'] === 'Deployment')
      ?.object as Json;
    const container = deployment['spec']['template']['spec']['containers'][0];
    assert.deepEqual(container['args'], [
      'serve',
      '--port',
      '8080',
      '--approved-by',
      'platform-team@example.com',
    ]);
    const env = container['env'] as Json[];
    assert.equal(
      env.find((entry) => entry['name'] === 'PADDOCK_PUBLIC_URL')?.['value'],
      'https://paddock.apps.example.com',
    );
    for (const probe of ['readinessProbe', 'livenessProbe'])
      assert.deepEqual(container[probe]['httpGet'], { path: HEALTH_PATH, port: 'http' }, probe);
    assert.equal(container['ports'][0]['name'], 'http');
    // The image's default command is the same entry point.
    const containerfile = readFileSync(new URL('../../deploy/Containerfile', import.meta.url), 'utf8');
    assert.match(containerfile, /^CMD \["serve", "--port", "8080"\]$/m);
  });

  it('every replica mounts the one checkpoint signing key from the Secret, where paddock serve reads it', () => {
    const mounted = (documents: { object: Json }[]) => {
      const pod = podSpecs(documents)[0]!;
      const volume = (pod['volumes'] as Json[]).find((each) =>
        each['secret']?.['items']?.some((item: Json) => item['path'] === basename(DEFAULT_AUDIT_KEY_FILE)),
      );
      const mount = (pod['containers'][0]['volumeMounts'] as Json[]).find(
        (each) => each['name'] === volume?.['name'],
      );
      return { volume, mount };
    };
    const { volume, mount } = mounted(documents);
    assert.ok(volume && mount, 'the key Secret is mounted');
    assert.equal(volume['secret']['secretName'], 'paddock-audit-key');
    assert.equal(volume['secret']['defaultMode'], 0o400);
    assert.deepEqual(
      (volume['secret']['items'] as Json[]).map((item) => item['path']).sort(),
      [basename(DEFAULT_AUDIT_KEY_FILE), basename(publicKeyPathFor(DEFAULT_AUDIT_KEY_FILE))].sort(),
    );
    assert.equal(mount['mountPath'], dirname(DEFAULT_AUDIT_KEY_FILE));
    assert.equal(mount['readOnly'], true);
    const renamed = mounted(
      renderChart(CHART, RELEASE, { audit: { signingKey: { secretName: 'audit-ed25519' } } }),
    );
    assert.equal(renamed.volume?.['secret']['secretName'], 'audit-ed25519');
  });

  it('mounts the policy release signing keys Secret where paddock serve reads them, owner-read only', () => {
    const releaseKeys = (documents: { object: Json }[]) => {
      const pod = podSpecs(documents)[0]!;
      const mount = (pod['containers'][0]['volumeMounts'] as Json[]).find(
        (each) => each['mountPath'] === DEFAULT_RELEASE_KEYS_DIR,
      );
      const volume = (pod['volumes'] as Json[]).find((each) => each['name'] === mount?.['name']);
      return { volume, mount };
    };
    const { volume, mount } = releaseKeys(renderChart(CHART, RELEASE));
    assert.ok(volume && mount, 'the release keys Secret is mounted');
    assert.equal(volume['secret']['secretName'], 'paddock-release-keys');
    assert.equal(volume['secret']['defaultMode'], 0o400);
    assert.equal(mount['readOnly'], true);
    const renamed = releaseKeys(renderChart(CHART, RELEASE, { releases: { keysSecretName: 'tuf-keys' } }));
    assert.equal(renamed.volume?.['secret']['secretName'], 'tuf-keys');
  });

  it('read-only root filesystem: every path the image writes is a mounted volume', () => {
    const containerfile = readFileSync(new URL('../../deploy/Containerfile', import.meta.url), 'utf8');
    const [deployment] = byKind('Deployment');
    const mounts = (deployment!['spec']['template']['spec']['containers'][0]['volumeMounts'] as Json[]).map(
      (mount) => mount['mountPath'],
    );
    const writable = [
      /PADDOCK_DATA_DIR=(\S+)/.exec(containerfile)?.[1],
      /HOME=(\S+)/.exec(containerfile)?.[1],
    ];
    for (const path of writable) assert.ok(path && mounts.includes(path), `${path} is not a mounted volume`);
  });

  it('the chart and the renderer agree: workspace egress reaches exactly the chart’s pods and port', async () => {
    const [configMap] = byKind('ConfigMap');
    const settings = parseKubeVirtSettings(parse(configMap?.['data']['kubevirt.yaml']));
    const [service] = byKind('Service');
    assert.equal(
      channelUrlOf(settings),
      `ws://${service?.['metadata']['name']}.${RELEASE.namespace}.svc.cluster.local:${service?.['spec']['ports'][0]['port']}/channel`,
    );
    const input = await fixtureInput();
    const objects = [...renderKubeVirt({ ...input, settings }).namespaces.values()].flat();
    const policy = objects.find((object) => object.kind === 'NetworkPolicy') as unknown as Json;
    const egress = policy['spec']['egress'][0];
    const [deployment] = byKind('Deployment');
    const podLabels = deployment?.['spec']['template']['metadata']['labels'];
    for (const [label, value] of Object.entries(egress['to'][0]['podSelector']['matchLabels']))
      assert.equal(podLabels[label], value, `pod label ${label}`);
    assert.equal(egress['ports'][0]['port'], service?.['spec']['ports'][0]['port']);
    // The chart's own NetworkPolicy admits the workspace namespaces the renderer labels.
    const namespace = objects.find((object) => object.kind === 'Namespace');
    const chartPolicy = byKind('NetworkPolicy')[0];
    const admitted = chartPolicy?.['spec']['ingress'][0]['from'][0]['namespaceSelector']['matchLabels'];
    for (const [label, value] of Object.entries(admitted))
      assert.equal(namespace?.metadata.labels?.[label], value);
  });
});
