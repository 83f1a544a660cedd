import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { ENV } from '../../../src/core/env.ts';
import {
  channelUrlOf,
  GUEST,
  INLINE_USER_DATA_MAX_BYTES,
  type KubeObject,
  renderFiles,
  renderKubeVirt,
} from '../../../src/providers/kubevirt/index.ts';
import { schemaErrors } from '../../support/kube-schemas.ts';
import {
  fixtureInput,
  fixtureSettings,
  GOLDEN_DIR,
  releasesFixtureInput,
  windowsFixtureInput,
} from './render-fixture.ts';

// The renderer's output: golden files (PADDOCK_UPDATE_GOLDEN=1 rewrites them), every object
// valid against the published schemas, and the properties the design asks for.

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

function checkGolden(name: string, files: Map<string, string>): void {
  const dir = join(GOLDEN_DIR, name);
  if (process.env[ENV.updateGolden] === '1') {
    rmSync(dir, { recursive: true, force: true });
    for (const [file, text] of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
  }
  assert.deepEqual(
    listFiles(dir),
    [...files.keys()],
    `golden ${name}: file list (PADDOCK_UPDATE_GOLDEN=1 to update)`,
  );
  for (const [file, text] of files)
    assert.equal(
      text,
      readFileSync(join(dir, file), 'utf8'),
      `golden ${name}/${file} (PADDOCK_UPDATE_GOLDEN=1 to update)`,
    );
}

function allObjects(render: ReturnType<typeof renderKubeVirt>): KubeObject[] {
  return [...[...render.namespaces.values()].flat(), ...render.platform];
}

describe('kubevirt renderer', () => {
  it('matches the golden files, with every optional resource on', async () => {
    checkGolden('full', renderFiles(renderKubeVirt(await fixtureInput())));
  });

  it('matches the golden files when sized by an instancetype and preference', async () => {
    const settings = fixtureSettings({
      instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'u1.2xlarge' },
      preference: { kind: 'VirtualMachineClusterPreference', name: 'rhel.9' },
      gitops: undefined,
      corporateCidrs: [],
    });
    checkGolden('instancetype', renderFiles(renderKubeVirt(await fixtureInput(settings))));
  });

  it('matches the golden files when the first workspace follows a release channel (its root pinned)', async () => {
    checkGolden('releases', renderFiles(renderKubeVirt(await releasesFixtureInput())));
  });

  it('matches the golden files for Windows workspaces (cloudbase-init on a ConfigDrive)', async () => {
    checkGolden('windows', renderFiles(renderKubeVirt(await windowsFixtureInput())));
  });

  it('is deterministic: workspaces in any order give the same bytes', async () => {
    const input = await fixtureInput();
    const forward = renderFiles(renderKubeVirt(input));
    const backward = renderFiles(renderKubeVirt({ ...input, workspaces: [...input.workspaces].reverse() }));
    assert.deepEqual([...backward], [...forward]);
  });

  it('renders only workspaces of kubevirt profiles, one namespace per user', async () => {
    const render = renderKubeVirt(await fixtureInput());
    assert.deepEqual(
      [...render.namespaces.keys()],
      ['paddock-ws-erin-405340cd', 'paddock-ws-frank-o-neil-845cfc17'],
    );
    const emails = [...render.namespaces.values()].map(
      (objects) =>
        objects.find((object) => object.kind === 'Namespace')?.metadata.annotations?.[
          'paddock.dev/owner-email'
        ],
    );
    assert.deepEqual(emails, ['erin@example.com', 'frank.o-neil@example.com']);
  });

  it('every rendered object validates against the published schemas (strict: unknown fields rejected)', async () => {
    for (const settings of [
      fixtureSettings(),
      fixtureSettings({ instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'u1.large' } }),
    ]) {
      for (const object of allObjects(renderKubeVirt(await fixtureInput(settings)))) {
        if (object.kind === 'ApplicationSet') continue; // no published schema: checked below
        assert.deepEqual(schemaErrors(object), [], `${object.kind} ${object.metadata.name}`);
      }
    }
  });

  it('the schema check is live: a misspelt field and a wrong type are rejected', async () => {
    const vm = allObjects(renderKubeVirt(await fixtureInput())).find(
      (object) => object.kind === 'VirtualMachine',
    );
    assert.ok(vm);
    const misspelt = structuredClone(vm) as Record<string, Record<string, unknown>>;
    misspelt['spec']!['runStrategyy'] = 'Always';
    assert.match(schemaErrors(misspelt).join('\n'), /additional properties/);
    const wrongType = structuredClone(vm) as Record<string, Record<string, unknown>>;
    wrongType['spec']!['runStrategy'] = 3;
    assert.match(schemaErrors(wrongType).join('\n'), /must be string/);
    const policy = allObjects(renderKubeVirt(await fixtureInput())).find(
      (object) => object.kind === 'NetworkPolicy',
    );
    const badPolicy = structuredClone(policy) as unknown as {
      spec: { egress: { ports: { protocol: string }[] }[] };
    };
    badPolicy.spec.egress[0]!.ports[0]!.protocol = 'ICMP';
    assert.notDeepEqual(schemaErrors(badPolicy as never), []);
  });

  it('the VM: masquerade on the pod network, cloud-init by secretRef, the golden image by digest', async () => {
    const objects = allObjects(renderKubeVirt(await fixtureInput()));
    const vm = objects.find((object) => object.kind === 'VirtualMachine') as unknown as {
      spec: { runStrategy: string; template: { spec: Record<string, never> } };
    };
    const spec = vm.spec.template.spec as unknown as {
      networks: unknown[];
      domain: { devices: { interfaces: unknown[] }; cpu: unknown; memory: unknown };
      volumes: { name: string; cloudInitNoCloud?: { secretRef?: { name: string }; userData?: string } }[];
    };
    assert.equal(vm.spec.runStrategy, 'Halted');
    assert.deepEqual(spec.networks, [{ name: 'default', pod: {} }]);
    assert.deepEqual(spec.domain.devices.interfaces, [{ name: 'default', masquerade: {} }]);
    assert.deepEqual(spec.domain.cpu, { cores: 8, sockets: 1, threads: 1 });
    const cloudInit = spec.volumes.find((volume) => volume.name === 'cloudinit')?.cloudInitNoCloud;
    assert.equal(cloudInit?.userData, undefined, 'no inline user data');
    assert.ok(cloudInit?.secretRef?.name.endsWith('-cloud-init'));
    const secret = objects.find(
      (object) => object.metadata.name === cloudInit?.secretRef?.name,
    ) as unknown as {
      data: { userdata: string };
    };
    const userData = Buffer.from(secret.data.userdata, 'base64').toString('utf8');
    assert.ok(userData.startsWith('#cloud-config\n'));
    assert.ok(Buffer.byteLength(userData) > INLINE_USER_DATA_MAX_BYTES, 'the reason it lives in a Secret');
    const cloudConfig = parse(userData) as {
      write_files: { path: string; content: string }[];
      runcmd: string[][];
    };
    const config = JSON.parse(
      cloudConfig.write_files.find((file) => file.path === GUEST.supervisorConfig)?.content ?? '',
    );
    assert.equal(config.channelUrl, 'ws://paddock.paddock.svc.cluster.local:8080/channel');
    assert.equal(config.channelUrl, channelUrlOf(fixtureSettings()));
    assert.equal(config.identityFile, GUEST.identityFile);
    assert.ok(!userData.includes('PRIVATE KEY'), 'no identity in user data (it is committed to Git)');
    assert.ok(
      cloudConfig.write_files.some(
        (file) => file.path === `${GUEST.desiredState}/blueprints/docs-research.yaml`,
      ),
    );
    assert.deepEqual(cloudConfig.runcmd.at(-1), [
      'systemctl',
      'enable',
      '--now',
      'paddock-supervisor.service',
    ]);
    const volume = objects.find((object) => object.kind === 'DataVolume') as unknown as {
      spec: { source: { registry: { url: string } } };
    };
    assert.match(volume.spec.source.registry.url, /^docker:\/\/.+@sha256:[0-9a-f]{64}$/);
  });

  it('network: default-deny NetworkPolicy (channel and DNS only), EgressFirewall default ending in deny-all, ANP for corporate CIDRs', async () => {
    const objects = allObjects(renderKubeVirt(await fixtureInput()));
    const policy = objects.find((object) => object.kind === 'NetworkPolicy') as unknown as {
      spec: {
        podSelector: object;
        policyTypes: string[];
        ingress: unknown[];
        egress: { ports: { port: number }[] }[];
      };
    };
    assert.deepEqual(policy.spec.podSelector, {});
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(policy.spec.ingress, []);
    assert.equal(policy.spec.egress.length, 2);
    assert.deepEqual(policy.spec.egress[0]?.ports, [{ protocol: 'TCP', port: 8080 }]);
    const firewall = objects.find((object) => object.kind === 'EgressFirewall') as unknown as {
      metadata: { name: string };
      spec: { egress: { type: string; to: { cidrSelector: string } }[] };
    };
    assert.equal(firewall.metadata.name, 'default');
    assert.deepEqual(
      firewall.spec.egress.map((rule) => `${rule.type} ${rule.to.cidrSelector}`),
      ['Allow 203.0.113.0/24', 'Deny 0.0.0.0/0', 'Deny ::/0'],
    );
    const anp = objects.find((object) => object.kind === 'AdminNetworkPolicy') as unknown as {
      spec: { subject: unknown; egress: { action: string; to: { networks: string[] }[] }[] };
    };
    assert.deepEqual(anp.spec.egress[0]?.to[0]?.networks, [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fd00::/8',
    ]);
    assert.equal(anp.spec.egress[0]?.action, 'Deny');
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    for (const namespace of namespaces)
      assert.equal(namespace.metadata.labels?.['paddock.dev/role'], 'workspace');
    const withoutCidrs = allObjects(
      renderKubeVirt(await fixtureInput(fixtureSettings({ corporateCidrs: [] }))),
    );
    assert.equal(withoutCidrs.filter((object) => object.kind === 'AdminNetworkPolicy').length, 0);
  });

  it('ApplicationSet (no published schema): Git directory generator over users/*, one Application per user directory', async () => {
    const render = renderKubeVirt(await fixtureInput());
    const appSet = render.platform.find((object) => object.kind === 'ApplicationSet') as unknown as {
      apiVersion: string;
      spec: {
        generators: { git: { repoURL: string; directories: { path: string }[] } }[];
        template: {
          spec: {
            source: { path: string };
            destination: { namespace: string };
            ignoreDifferences: unknown[];
          };
        };
      };
    };
    assert.equal(appSet.apiVersion, 'argoproj.io/v1alpha1');
    assert.equal(appSet.spec.generators.length, 1);
    assert.deepEqual(appSet.spec.generators[0]?.git.directories, [{ path: 'rendered/kubevirt/users/*' }]);
    assert.equal(appSet.spec.template.spec.source.path, '{{.path.path}}');
    assert.equal(appSet.spec.template.spec.destination.namespace, '{{.path.basename}}');
    // Each user directory is named after the namespace its Application deploys to.
    const files = [...renderFiles(render).keys()].filter((file) => file.startsWith('users/'));
    for (const namespace of render.namespaces.keys())
      assert.ok(files.some((file) => file.startsWith(`users/${namespace}/namespace-${namespace}.yaml`)));
    // Every rendered file is one YAML document that parses back to its object.
    for (const [file, text] of renderFiles(render)) assert.equal(parseAllDocuments(text).length, 1, file);
  });
});
