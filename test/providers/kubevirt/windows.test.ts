import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import { WINDOWS_HOST_SSH } from '../../../src/providers/windows-guest.ts';
import {
  channelUrlOf,
  type KubeObject,
  KubeVirtProvider,
  kubeApiFrom,
  namespaceOf,
  PS1_SYSNATIVE,
  renderKubeVirt,
  WINDOWS_GUEST,
} from '../../../src/providers/kubevirt/index.ts';
import { schemaErrors } from '../../support/kube-schemas.ts';
import { FIXTURE_DIR, fixtureInput, fixtureSettings, windowsFixtureInput } from './render-fixture.ts';
import { type StandInApiServer, startStandInApiServer } from './stand-in-api-server.ts';

// Windows workspaces on KubeVirt: a Windows VirtualMachine (Hyper-V enlightenments, UEFI Secure
// Boot with SMM, a vTPM) whose cloudbase-init user data comes from a ConfigDrive built from the
// same Secret, behind exactly the same namespace boundary as Linux. Golden files are in
// render.test.ts (`windows`).

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are read freely
type Json = Record<string, any>;

const objectsOf = (render: ReturnType<typeof renderKubeVirt>): Json[] => [
  ...[...render.namespaces.values()].flat(),
  ...render.platform,
];

function only(objects: Json[], kind: string): Json {
  const found = objects.filter((object) => object.kind === kind);
  assert.ok(found[0], `no ${kind}`);
  return found[0];
}

function userData(objects: Json[], vm: Json): string {
  const volume = vm.spec.template.spec.volumes.find((entry: Json) => entry.name === 'cloudinit');
  const secret = objects.find(
    (object) =>
      object.kind === 'Secret' && object.metadata.name === volume.cloudInitConfigDrive.secretRef.name,
  );
  assert.ok(secret);
  return Buffer.from(secret.data.userdata, 'base64').toString('utf8');
}

function writtenFiles(script: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of script.matchAll(/^Write-Gz '([^']+)' '([A-Za-z0-9+/=]+)'\r?$/gm))
    files.set(match[1] ?? '', gunzipSync(Buffer.from(match[2] ?? '', 'base64')).toString('utf8'));
  return files;
}

describe('kubevirt Windows workspaces', () => {
  it('every object of a Windows render validates against the published schemas (strict) and passes admission', async () => {
    for (const settings of [
      fixtureSettings(),
      fixtureSettings({ instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'u1.2xlarge' } }),
    ])
      for (const object of objectsOf(renderKubeVirt(await windowsFixtureInput(settings)))) {
        if (object.kind === 'ApplicationSet') continue;
        assert.deepEqual(schemaErrors(object as KubeObject), [], `${object.kind} ${object.metadata.name}`);
      }
  });

  it('the VM: Hyper-V enlightenments, Windows clock, Secure Boot with SMM, vTPM; ConfigDrive user data by secretRef', async () => {
    const objects = objectsOf(renderKubeVirt(await windowsFixtureInput()));
    const vm = only(objects, 'VirtualMachine');
    assert.equal(vm.metadata.annotations['paddock.dev/os'], 'windows');
    const spec = vm.spec.template.spec;
    const domain = spec.domain;
    assert.deepEqual(domain.features.smm, { enabled: true });
    assert.deepEqual(domain.firmware.bootloader.efi, { secureBoot: true });
    for (const feature of ['relaxed', 'vapic', 'spinlocks', 'vpindex', 'synic', 'synictimer', 'tlbflush'])
      assert.ok(domain.features.hyperv[feature], `hyperv.${feature}`);
    assert.equal(domain.features.hyperv.spinlocks.spinlocks, 8191);
    assert.deepEqual(domain.clock.timer.hpet, { present: false });
    assert.deepEqual(domain.devices.tpm, {});
    // cloudbase-init reads a ConfigDrive on a CD-ROM; the identity is a read-only CD-ROM too.
    const cloudInit = spec.volumes.find((volume: Json) => volume.name === 'cloudinit');
    assert.deepEqual(Object.keys(cloudInit), ['name', 'cloudInitConfigDrive']);
    assert.equal(cloudInit.cloudInitConfigDrive.userData, undefined, 'never inline');
    assert.match(cloudInit.cloudInitConfigDrive.secretRef.name, /-cloud-init$/);
    const disks = Object.fromEntries(domain.devices.disks.map((disk: Json) => [disk.name, disk]));
    assert.deepEqual(disks['cloudinit'], { name: 'cloudinit', cdrom: { bus: 'sata' } });
    assert.equal(disks['identity'].cdrom.bus, 'sata');
    assert.deepEqual(disks['root'].disk, { bus: 'virtio' });
    assert.deepEqual(
      spec.volumes.find((volume: Json) => volume.name === 'identity').secret.secretName,
      `${vm.metadata.name}-identity`,
    );
    // The same single masquerade interface on the pod network as Linux.
    assert.deepEqual(domain.devices.interfaces, [{ name: 'default', masquerade: {} }]);
    assert.deepEqual(spec.networks, [{ name: 'default', pod: {} }]);
  });

  it('the network boundary is the same as Linux: Namespace, NetworkPolicy, EgressFirewall and AdminNetworkPolicy identical', async () => {
    const linux = objectsOf(renderKubeVirt(await fixtureInput()));
    const windows = objectsOf(renderKubeVirt(await windowsFixtureInput()));
    for (const kind of [
      'Namespace',
      'NetworkPolicy',
      'EgressFirewall',
      'AdminNetworkPolicy',
      'ApplicationSet',
    ])
      assert.deepEqual(
        windows.filter((object) => object.kind === kind),
        linux.filter((object) => object.kind === kind),
        kind,
      );
    // Same root disk source semantics: pinned by digest.
    assert.match(only(windows, 'DataVolume').spec.source.registry.url, /^docker:\/\/.+@sha256:[0-9a-f]{64}$/);
  });

  it('cloudbase-init user data: #ps1_sysnative, the supervisor config dialing the in-cluster channel with host SSH terminals, desired state, identity sync, task start; no credential', async () => {
    const objects = objectsOf(renderKubeVirt(await windowsFixtureInput()));
    const vm = only(objects, 'VirtualMachine');
    const script = userData(objects, vm);
    assert.ok(script.startsWith(`${PS1_SYSNATIVE}\r\n`));
    const files = writtenFiles(script);
    const config = JSON.parse(files.get(WINDOWS_GUEST.supervisorConfig) ?? '{}');
    assert.equal(config.channelUrl, channelUrlOf(fixtureSettings()));
    assert.equal(config.identityFile, WINDOWS_GUEST.identityFile);
    assert.equal(config.configDir, WINDOWS_GUEST.desiredState);
    assert.equal(config.profile, 'windows-kubevirt');
    assert.ok(files.has(`${WINDOWS_GUEST.desiredState}\\blueprints\\docs-research.yaml`));
    const sync = files.get(WINDOWS_GUEST.identitySync) ?? '';
    assert.match(sync, /no identity on its disk/);
    assert.match(sync, /Get-FileHash -Algorithm SHA256/);
    // Terminals through the host's OpenSSH server; the task's wrapper passes its pid.
    assert.deepEqual(config.hostSsh, WINDOWS_HOST_SSH);
    assert.equal(config.providerPid, 0);
    assert.match(script, /Start-ScheduledTask -TaskName 'PaddockSupervisor'\r\n$/);
    assert.ok(!script.includes('PRIVATE KEY') && !/"d"\s*:/.test([...files.values()].join('\n')));
  });

  it('a preference for Windows VMs comes from windowsPreference, never the Linux preference', async () => {
    const settings = fixtureSettings({
      preference: { kind: 'VirtualMachineClusterPreference', name: 'rhel.9' },
      windowsPreference: { kind: 'VirtualMachineClusterPreference', name: 'windows.2k22.virtio' },
    });
    const windows = only(objectsOf(renderKubeVirt(await windowsFixtureInput(settings))), 'VirtualMachine');
    assert.deepEqual(windows.spec.preference, {
      kind: 'VirtualMachineClusterPreference',
      name: 'windows.2k22.virtio',
    });
    const linux = only(objectsOf(renderKubeVirt(await fixtureInput(settings))), 'VirtualMachine');
    assert.equal(linux.spec.preference.name, 'rhel.9');
    const none = only(
      objectsOf(
        renderKubeVirt(
          await windowsFixtureInput(
            fixtureSettings({ preference: { kind: 'VirtualMachineClusterPreference', name: 'rhel.9' } }),
          ),
        ),
      ),
      'VirtualMachine',
    );
    assert.equal(none.spec.preference, undefined);
  });

  it('a desired-state path that could break out of the PowerShell string is refused (no code injection into the bootstrap)', async () => {
    const input = await windowsFixtureInput();
    const files = new Map(input.desiredStateFiles);
    files.set("blueprints/x'; Remove-Item C:\\ -Recurse; '.yaml", 'kind: Blueprint\n');
    assert.throws(
      () => renderKubeVirt({ ...input, desiredStateFiles: files }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PDK_KUBEVIRT_RESOURCE_INVALID');
        assert.match(error.message, /a Windows workspace takes only paths/);
        return true;
      },
    );
    // The same file set renders for Linux (cloud-init quotes it as YAML, no shell involved).
    const linux = await fixtureInput();
    assert.ok(renderKubeVirt({ ...linux, desiredStateFiles: files }));
  });
});

describe('kubevirt provider: a Windows workspace (stand-in API server)', () => {
  let server: StandInApiServer;
  const spec: WorkspaceSpec = {
    id: 'ws-00000000cafe',
    owner: 'erin@example.com',
    profile: 'windows-kubevirt',
    blueprint: 'docs-research',
    configDir: FIXTURE_DIR,
  };
  const namespace = namespaceOf('paddock-ws-', spec.owner);

  before(async () => {
    server = await startStandInApiServer();
  });
  after(() => server.close());

  it('start then revoke (stand-in API server): the Windows VM boots from a ConfigDrive with its identity disk; revoke cuts egress and halts it', async () => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'stand-in', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'paddock', token: server.token }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'paddock' }],
      currentContext: 'stand-in',
    });
    const provider = new KubeVirtProvider({ api: kubeApiFrom(config), settings: fixtureSettings() });
    const { identity } = await generateIdentity(spec.id);
    await provider.start(spec, identity, 'ws://127.0.0.1:1/channel');
    const vm = server.get('kubevirt.io/v1', 'VirtualMachine', spec.id, namespace);
    assert.ok(vm);
    assert.equal(vm['spec'].runStrategy, 'Always');
    assert.equal(vm['metadata'].annotations['paddock.dev/os'], 'windows');
    const volumes = vm['spec'].template.spec.volumes as Json[];
    assert.equal(
      volumes.find((volume) => volume.name === 'cloudinit')?.cloudInitConfigDrive.secretRef.name,
      `${spec.id}-cloud-init`,
    );
    assert.ok(server.get('v1', 'Secret', `${spec.id}-identity`, namespace));
    const secret = server.get('v1', 'Secret', `${spec.id}-cloud-init`, namespace);
    assert.ok(Buffer.from(secret?.['data'].userdata, 'base64').toString('utf8').startsWith(PS1_SYSNATIVE));

    await provider.dropCredentials(spec.id);
    assert.equal(server.get('v1', 'Secret', `${spec.id}-identity`, namespace), undefined);
    assert.deepEqual(
      server.get('networking.k8s.io/v1', 'NetworkPolicy', 'paddock-default-deny', namespace)?.['spec'].egress,
      [],
    );
    assert.equal(
      server.get('kubevirt.io/v1', 'VirtualMachine', spec.id, namespace)?.['spec'].runStrategy,
      'Halted',
    );
  });
});
