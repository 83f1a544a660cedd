import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../../src/core/errors.ts';
import {
  ADMISSION_RULES,
  admissionViolations,
  assertAdmissible,
  EGRESS_FIREWALL_MAX_RULES,
  INLINE_USER_DATA_MAX_BYTES,
  type KubeObject,
  renderKubeVirt,
  SECRET_MAX_BYTES,
} from '../../../src/providers/kubevirt/index.ts';
import { schemaErrors } from '../../support/kube-schemas.ts';
import { fixtureInput, fixtureSettings, windowsFixtureInput } from './render-fixture.ts';

// The admission rules the published schemas cannot express, one named test each: the rule
// rejects a breaking object, and — where the renderer's inputs can produce the break — the
// renderer refuses with the same code and writes nothing. Rules over values the renderer
// hard-codes (the EgressFirewall name, the masquerade binding, ...) are checked on its output
// all the same (renderKubeVirt runs every rule), and tested here on a broken object.

// biome-ignore lint/suspicious/noExplicitAny: test objects are edited freely
type Mutable = Record<string, any>;

async function rendered(): Promise<Mutable[]> {
  const render = renderKubeVirt(await fixtureInput());
  return structuredClone([...[...render.namespaces.values()].flat(), ...render.platform]) as Mutable[];
}

function find(objects: Mutable[], kind: string): Mutable {
  const found = objects.find((object) => object.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found;
}

function assertRejected(objects: Mutable[], rule: string, code: ErrorCode): void {
  const violations = admissionViolations(objects as unknown as KubeObject[]).filter((v) => v.rule === rule);
  assert.ok(violations.length > 0, `rule ${rule} found nothing`);
  assert.equal(violations[0]?.code, code);
  assert.throws(() => assertAdmissible(objects as unknown as KubeObject[]), { code });
}

async function assertRendererRefuses(
  input: Parameters<typeof renderKubeVirt>[0],
  code: ErrorCode,
  message: RegExp,
) {
  assert.throws(
    () => renderKubeVirt(input),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    },
  );
}

const tested = new Set<string>();
function ruleTest(rule: string, title: string, body: () => Promise<void>) {
  tested.add(rule);
  it(`${rule}: ${title}`, body);
}

describe('kubevirt admission rules', () => {
  it('the fixture render breaks no rule', async () => {
    assert.deepEqual(admissionViolations((await rendered()) as unknown as KubeObject[]), []);
  });

  ruleTest(
    'cloud-init-inline-size',
    'inline user data over 2048 bytes is rejected (the schema allows any length)',
    async () => {
      const objects = await rendered();
      const vm = find(objects, 'VirtualMachine');
      const volume = vm.spec.template.spec.volumes.find((v: Mutable) => v.name === 'cloudinit');
      volume.cloudInitNoCloud = { userData: `#cloud-config\n${'#'.repeat(INLINE_USER_DATA_MAX_BYTES)}` };
      assert.deepEqual(schemaErrors(vm), [], 'the published schema does not catch it');
      assertRejected(objects, 'cloud-init-inline-size', 'PDK_KUBEVIRT_CLOUD_INIT_TOO_LARGE');
      volume.cloudInitNoCloud = { userData: '#cloud-config\n' };
      assert.equal(
        admissionViolations(objects as unknown as KubeObject[]).length,
        0,
        'small inline data passes',
      );
    },
  );

  ruleTest('secret-size', 'the renderer refuses cloud-init over the 1 MiB Secret limit', async () => {
    const input = await fixtureInput();
    const files = new Map(input.desiredStateFiles);
    files.set('blueprints/huge.yaml', `# ${'x'.repeat(SECRET_MAX_BYTES)}\n`);
    await assertRendererRefuses(
      { ...input, desiredStateFiles: files },
      'PDK_KUBEVIRT_CLOUD_INIT_TOO_LARGE',
      /1048576-byte Secret limit/,
    );
  });

  ruleTest(
    'instancetype-excludes-explicit-resources',
    'an instancetype with explicit CPU or memory is refused',
    async () => {
      const settings = fixtureSettings({
        instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'u1.large' },
        domainOverrides: { cpu: { cores: 4 } },
      });
      await assertRendererRefuses(
        await fixtureInput(settings),
        'PDK_KUBEVIRT_SIZING_CONFLICT',
        /domain\.cpu/,
      );
      const objects = await rendered();
      const vm = find(objects, 'VirtualMachine');
      vm.spec.instancetype = { kind: 'VirtualMachineClusterInstancetype', name: 'u1.large' };
      delete vm.spec.template.spec.domain.cpu;
      assert.deepEqual(schemaErrors(vm), [], 'the published schema does not catch it');
      assertRejected(objects, 'instancetype-excludes-explicit-resources', 'PDK_KUBEVIRT_SIZING_CONFLICT');
      vm.spec.template.spec.domain.memory = undefined;
      vm.spec.template.spec.domain.resources = { requests: { memory: '1Gi' } };
      assertRejected(objects, 'instancetype-excludes-explicit-resources', 'PDK_KUBEVIRT_SIZING_CONFLICT');
      // A non-sizing override is fine with an instancetype (Secure Boot with the SMM it needs).
      const fine = fixtureSettings({
        instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'u1.large' },
        domainOverrides: {
          firmware: { bootloader: { efi: { secureBoot: true } } },
          features: { smm: { enabled: true } },
        },
      });
      assert.ok(renderKubeVirt(await fixtureInput(fine)));
    },
  );

  ruleTest('egress-firewall-name', 'an EgressFirewall not named default is rejected', async () => {
    const objects = await rendered();
    find(objects, 'EgressFirewall').metadata.name = 'paddock';
    assertRejected(objects, 'egress-firewall-name', 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID');
    // The OVN CRD does say it too (pattern ^default$): both checks agree.
    assert.match(schemaErrors(find(objects, 'EgressFirewall')).join('\n'), /must match pattern/);
  });

  ruleTest(
    'egress-firewall-one-per-namespace',
    'a second EgressFirewall in a namespace is rejected',
    async () => {
      const objects = await rendered();
      objects.push(structuredClone(find(objects, 'EgressFirewall')));
      assertRejected(objects, 'egress-firewall-one-per-namespace', 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID');
    },
  );

  ruleTest(
    'egress-firewall-rule-count',
    'the renderer refuses more than 8000 EgressFirewall rules',
    async () => {
      const cidrs = Array.from(
        { length: EGRESS_FIREWALL_MAX_RULES - 1 },
        (_, i) => `198.${(i >> 8) & 255}.${i & 255}.0/24`,
      );
      await assertRendererRefuses(
        await fixtureInput(fixtureSettings({ allowedEgressCidrs: cidrs })),
        'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID',
        /8001 rules, over the limit of 8000/,
      );
      // One fewer fits exactly.
      assert.ok(renderKubeVirt(await fixtureInput(fixtureSettings({ allowedEgressCidrs: cidrs.slice(1) }))));
    },
  );

  ruleTest(
    'egress-firewall-ends-in-deny-all',
    'an EgressFirewall that does not end in deny-all (v4 and v6) is rejected',
    async () => {
      const objects = await rendered();
      const firewall = find(objects, 'EgressFirewall');
      firewall.spec.egress.pop(); // drop Deny ::/0: IPv6 would leave the cluster
      assertRejected(objects, 'egress-firewall-ends-in-deny-all', 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID');
      firewall.spec.egress.push({ type: 'Allow', to: { cidrSelector: '::/0' } });
      assertRejected(objects, 'egress-firewall-ends-in-deny-all', 'PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID');
    },
  );

  ruleTest('image-pinned-by-digest', 'the renderer refuses a golden image by tag', async () => {
    const input = await fixtureInput();
    const [first, ...rest] = input.workspaces;
    assert.ok(first);
    const tagged = {
      ...first,
      profile: { ...first.profile, image: 'quay.io/example/paddock-workspace:latest' },
    };
    await assertRendererRefuses(
      { ...input, workspaces: [tagged, ...rest] },
      'PDK_KUBEVIRT_IMAGE_NOT_PINNED',
      /not pinned/,
    );
    const objects = await rendered();
    find(objects, 'DataVolume').spec.source.registry.url = 'docker://quay.io/example/paddock-workspace:9.4';
    assertRejected(objects, 'image-pinned-by-digest', 'PDK_KUBEVIRT_IMAGE_NOT_PINNED');
  });

  ruleTest(
    'masquerade-on-pod-network',
    'a bridge binding, or masquerade on a secondary network, is rejected',
    async () => {
      const objects = await rendered();
      const spec = find(objects, 'VirtualMachine').spec.template.spec;
      spec.domain.devices.interfaces = [{ name: 'default', bridge: {} }];
      assertRejected(objects, 'masquerade-on-pod-network', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      spec.domain.devices.interfaces = [{ name: 'default', masquerade: {} }];
      spec.networks = [{ name: 'default', multus: { networkName: 'corp-vlan' } }];
      assertRejected(objects, 'masquerade-on-pod-network', 'PDK_KUBEVIRT_RESOURCE_INVALID');
    },
  );

  ruleTest('disks-match-volumes', 'a disk without a volume is rejected', async () => {
    const objects = await rendered();
    find(objects, 'VirtualMachine').spec.template.spec.volumes.pop();
    assertRejected(objects, 'disks-match-volumes', 'PDK_KUBEVIRT_RESOURCE_INVALID');
  });

  ruleTest('names-and-labels', 'the renderer refuses a workspace id that is not a DNS label', async () => {
    const input = await fixtureInput();
    const [first, ...rest] = input.workspaces;
    assert.ok(first);
    await assertRendererRefuses(
      { ...input, workspaces: [{ ...first, id: 'WS_Upper' }, ...rest] },
      'PDK_KUBEVIRT_RESOURCE_INVALID',
      /not a DNS label/,
    );
    const objects = await rendered();
    find(objects, 'Namespace').metadata.labels['paddock.dev/owner'] = 'erin@example.com';
    assertRejected(objects, 'names-and-labels', 'PDK_KUBEVIRT_RESOURCE_INVALID');
  });

  ruleTest(
    'admin-network-policy-cidr-family',
    'an IPv4-in-IPv6 network in the AdminNetworkPolicy is rejected (CEL rule)',
    async () => {
      const objects = await rendered();
      find(objects, 'AdminNetworkPolicy').spec.egress[0].to[0].networks.push('::ffff:10.0.0.0/104');
      assertRejected(objects, 'admin-network-policy-cidr-family', 'PDK_KUBEVIRT_RESOURCE_INVALID');
    },
  );

  ruleTest(
    'network-policy-default-deny',
    'a NetworkPolicy that selects some pods, or allows ingress, is rejected',
    async () => {
      const objects = await rendered();
      const policy = find(objects, 'NetworkPolicy');
      policy.spec.podSelector = { matchLabels: { 'paddock.dev/workspace': 'x' } };
      assertRejected(objects, 'network-policy-default-deny', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      policy.spec.podSelector = {};
      policy.spec.ingress = [{}];
      assertRejected(objects, 'network-policy-default-deny', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      policy.spec.ingress = [];
      policy.spec.policyTypes = ['Ingress'];
      assertRejected(objects, 'network-policy-default-deny', 'PDK_KUBEVIRT_RESOURCE_INVALID');
    },
  );

  ruleTest(
    'efi-secure-boot-requires-smm',
    'a VM with EFI Secure Boot and SMM off (or absent) is rejected; Secure Boot off needs no SMM',
    async () => {
      const render = renderKubeVirt(await windowsFixtureInput());
      const objects = structuredClone([...render.namespaces.values()].flat()) as Mutable[];
      const vm = find(objects, 'VirtualMachine');
      assert.deepEqual(admissionViolations(objects as unknown as KubeObject[]), []);
      vm.spec.template.spec.domain.features.smm = { enabled: false };
      assertRejected(objects, 'efi-secure-boot-requires-smm', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      delete vm.spec.template.spec.domain.features.smm;
      assertRejected(objects, 'efi-secure-boot-requires-smm', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      // KubeVirt defaults secureBoot to true under EFI: an efi without the field still needs SMM.
      vm.spec.template.spec.domain.firmware.bootloader.efi = {};
      assertRejected(objects, 'efi-secure-boot-requires-smm', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      vm.spec.template.spec.domain.firmware.bootloader.efi = { secureBoot: false };
      assert.deepEqual(
        admissionViolations(objects as unknown as KubeObject[]).filter(
          (violation) => violation.rule === 'efi-secure-boot-requires-smm',
        ),
        [],
      );
    },
  );

  ruleTest(
    'windows-user-data-on-config-drive',
    'a Windows VM given NoCloud user data (cloudbase-init reads a ConfigDrive) or inline user data is rejected',
    async () => {
      const render = renderKubeVirt(await windowsFixtureInput());
      const objects = structuredClone([...render.namespaces.values()].flat()) as Mutable[];
      const vm = find(objects, 'VirtualMachine');
      const volume = vm.spec.template.spec.volumes.find((entry: Mutable) => entry.name === 'cloudinit');
      const drive = volume.cloudInitConfigDrive;
      delete volume.cloudInitConfigDrive;
      volume.cloudInitNoCloud = drive;
      assertRejected(objects, 'windows-user-data-on-config-drive', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      delete volume.cloudInitNoCloud;
      volume.cloudInitConfigDrive = { userData: '#ps1_sysnative\nStart-ScheduledTask PaddockSupervisor' };
      assertRejected(objects, 'windows-user-data-on-config-drive', 'PDK_KUBEVIRT_RESOURCE_INVALID');
      // A Linux VM keeps NoCloud: the rule is about Windows guests only.
      const linux = await rendered();
      assert.deepEqual(
        admissionViolations(linux as unknown as KubeObject[]).filter(
          (violation) => violation.rule === 'windows-user-data-on-config-drive',
        ),
        [],
      );
    },
  );

  it('every admission rule has a named test above', () => {
    assert.deepEqual(
      ADMISSION_RULES.map((rule) => rule.name).filter((name) => !tested.has(name)),
      [],
    );
  });
});
