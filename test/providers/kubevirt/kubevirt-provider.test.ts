import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { generateIdentity, type WorkspaceIdentity } from '../../../src/core/channel/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import { requireValidRepository } from '../../../src/config/index.ts';
import {
  desiredStateFilesOf,
  FIELD_MANAGER,
  identitySecretName,
  type KubeApi,
  KubeVirtProvider,
  kubeApiFrom,
  namespaceOf,
  renderNamespaceObjects,
  renderWorkspaceObjects,
} from '../../../src/providers/kubevirt/index.ts';
import { schemaErrors } from '../../support/kube-schemas.ts';
import { FIXTURE_DIR, fixtureSettings } from './render-fixture.ts';
import { type StandInApiServer, startStandInApiServer } from './stand-in-api-server.ts';

// The apply path and the lifecycle mapping, through the real @kubernetes/client-node against a
// STAND-IN API server (a loopback HTTP server; no cluster runs here). Every test name says so.

// biome-ignore lint/suspicious/noExplicitAny: JSON documents
type Json = Record<string, any>;

const SPEC: WorkspaceSpec = {
  id: 'ws-0123456789ab',
  owner: 'erin@example.com',
  profile: 'large-kubevirt',
  blueprint: 'docs-research',
  configDir: FIXTURE_DIR,
};
const NAMESPACE = namespaceOf('paddock-ws-', SPEC.owner);

function apiFor(server: StandInApiServer, token = server.token): KubeApi {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'stand-in', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'paddock', token }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'paddock' }],
    currentContext: 'stand-in',
  });
  return kubeApiFrom(config);
}

describe('kubevirt provider through @kubernetes/client-node (stand-in API server)', () => {
  let server: StandInApiServer;
  let provider: KubeVirtProvider;
  let identity: WorkspaceIdentity;
  const settings = fixtureSettings();

  before(async () => {
    server = await startStandInApiServer();
    provider = new KubeVirtProvider({ api: apiFor(server), settings });
    identity = (await generateIdentity(SPEC.id)).identity;
  });
  after(() => server.close());

  const writes = () => server.requests.filter((request) => request.method !== 'GET');
  const vm = () => server.get('kubevirt.io/v1', 'VirtualMachine', SPEC.id, NAMESPACE);

  it('provision (stand-in API server): server-side apply of every object, field manager paddock, force, valid against the schemas', async () => {
    const from = server.requests.length;
    await provider.provision(SPEC);
    const applies = server.requests.slice(from).filter((request) => request.method === 'PATCH');
    assert.deepEqual(
      applies.map(
        (request) => `${(request.body as Json)['kind']} ${(request.body as Json)['metadata']['name']}`,
      ),
      [
        `Namespace ${NAMESPACE}`,
        'NetworkPolicy paddock-default-deny',
        'EgressFirewall default',
        `Secret ${SPEC.id}-cloud-init`,
        `DataVolume ${SPEC.id}-root-1`,
        `VirtualMachine ${SPEC.id}`,
      ],
    );
    for (const request of applies) {
      assert.equal(request.contentType, 'application/apply-patch+yaml');
      assert.equal(request.query['fieldManager'], FIELD_MANAGER);
      assert.equal(request.query['force'], 'true');
      assert.equal(request.authorization, `Bearer ${server.token}`);
      assert.deepEqual(
        schemaErrors(request.body as Json),
        [],
        'what reached the server is still schema-valid',
      );
    }
    // What reached the server is exactly what the renderer made (the client dropped or added nothing).
    const { state } = await requireValidRepository(FIXTURE_DIR);
    const workspace = {
      id: SPEC.id,
      owner: SPEC.owner,
      profileName: SPEC.profile,
      profile: state.profiles.get(SPEC.profile)!.value.spec,
      blueprint: SPEC.blueprint,
    };
    const expected = [
      ...renderNamespaceObjects(workspace, settings),
      ...renderWorkspaceObjects(workspace, settings, await desiredStateFilesOf(state)),
    ];
    assert.deepEqual(
      applies.map((request) => request.body),
      JSON.parse(JSON.stringify(expected)),
    );
    assert.equal(vm()?.['spec']['runStrategy'], 'Halted');
    assert.equal(provider.status(SPEC.id), 'stopped');
  });

  it('start (stand-in API server): the identity Secret first, then runStrategy Always', async () => {
    const from = server.requests.length;
    await assert.rejects(provider.start({ ...SPEC, id: 'ws-other000000' }, identity, 'ws://ignored'), {
      code: 'PDK_WORKSPACE_PROVIDER',
    });
    await provider.start(SPEC, identity, 'ws://127.0.0.1:1/channel');
    const applies = server.requests.slice(from).filter((request) => request.method === 'PATCH');
    assert.equal((applies[0]!.body as Json)['metadata']['name'], identitySecretName(SPEC.id));
    const secret = server.get('v1', 'Secret', identitySecretName(SPEC.id), NAMESPACE);
    const stored = JSON.parse(Buffer.from(secret?.['data']['identity.json'], 'base64').toString('utf8'));
    assert.deepEqual(stored, identity);
    assert.equal(vm()?.['spec']['runStrategy'], 'Always');
    assert.equal(provider.status(SPEC.id), 'running');
    // The VM reads the identity from exactly that Secret.
    const volumes = vm()?.['spec']['template']['spec']['volumes'] as Json[];
    assert.equal(
      volumes.find((volume) => volume['name'] === 'identity')?.['secret']['secretName'],
      identitySecretName(SPEC.id),
    );
  });

  it('stop (stand-in API server): a merge patch of runStrategy to Halted', async () => {
    const from = server.requests.length;
    await provider.stop(SPEC.id);
    const patch = writes().filter((request) => server.requests.indexOf(request) >= from);
    assert.equal(patch.length, 1);
    assert.equal(patch[0]?.contentType, 'application/merge-patch+json');
    assert.equal(patch[0]?.query['fieldManager'], FIELD_MANAGER);
    assert.deepEqual((patch[0]!.body as Json)['spec'], { runStrategy: 'Halted' });
    assert.equal(vm()?.['spec']['runStrategy'], 'Halted');
    assert.equal(provider.status(SPEC.id), 'stopped');
  });

  it('rebuild (stand-in API server): refused while running; then a new DataVolume, the VM moved to it, the old one deleted', async () => {
    await provider.start(SPEC, identity, '');
    await assert.rejects(provider.rebuild(SPEC), {
      code: 'PDK_WORKSPACE_PROVIDER',
      message: /stop .* before rebuilding/,
    });
    await provider.stop(SPEC.id);
    const from = server.requests.length;
    await provider.rebuild(SPEC);
    const after = server.requests.slice(from);
    assert.ok(server.get('cdi.kubevirt.io/v1beta1', 'DataVolume', `${SPEC.id}-root-2`, NAMESPACE));
    assert.equal(
      server.get('cdi.kubevirt.io/v1beta1', 'DataVolume', `${SPEC.id}-root-1`, NAMESPACE),
      undefined,
    );
    assert.ok(
      after.some(
        (request) => request.method === 'DELETE' && request.path.endsWith(`/datavolumes/${SPEC.id}-root-1`),
      ),
    );
    const volumes = vm()?.['spec']['template']['spec']['volumes'] as Json[];
    assert.equal(
      volumes.find((volume) => volume['name'] === 'root')?.['dataVolume']['name'],
      `${SPEC.id}-root-2`,
    );
    assert.equal(vm()?.['metadata']['annotations']['paddock.dev/root-generation'], '2');
    // The next start keeps generation 2.
    await provider.start(SPEC, identity, '');
    assert.ok(server.get('cdi.kubevirt.io/v1beta1', 'DataVolume', `${SPEC.id}-root-2`, NAMESPACE));
    assert.equal(
      server.get('cdi.kubevirt.io/v1beta1', 'DataVolume', `${SPEC.id}-root-1`, NAMESPACE),
      undefined,
    );
  });

  it('start of a running VM (stand-in API server): its VMI is deleted so it reboots with the new identity', async () => {
    assert.equal(vm()?.['spec']['runStrategy'], 'Always');
    // What the VM controller would have made.
    server.objects.set(`kubevirt.io/v1/VirtualMachineInstance/${NAMESPACE}/${SPEC.id}`, {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: SPEC.id, namespace: NAMESPACE },
    });
    const fresh = (await generateIdentity(SPEC.id)).identity;
    await provider.start(SPEC, fresh, '');
    assert.equal(server.get('kubevirt.io/v1', 'VirtualMachineInstance', SPEC.id, NAMESPACE), undefined);
    const secret = server.get('v1', 'Secret', identitySecretName(SPEC.id), NAMESPACE);
    assert.equal(
      JSON.parse(Buffer.from(secret?.['data']['identity.json'], 'base64').toString('utf8')).kid,
      fresh.kid,
    );
  });

  it('refreshStatus (stand-in API server): a replica that just started learns run state and location from the cluster', async () => {
    const restarted = new KubeVirtProvider({ api: apiFor(server), settings });
    assert.equal(restarted.status(SPEC.id), 'absent', 'nothing known before the refresh');
    assert.equal(await restarted.refreshStatus(), 1);
    assert.equal(restarted.status(SPEC.id), 'running');
    const before = server.requests.length;
    await restarted.stop(SPEC.id);
    assert.ok(
      !server.requests.slice(before).some((request) => request.query['labelSelector']),
      'located from the refresh, no search',
    );
    assert.equal(restarted.status(SPEC.id), 'stopped');
    await provider.start(SPEC, identity, '');
  });

  it('API errors (stand-in API server): a refused apply and a bad token become PDK_KUBEVIRT_APPLY naming the object', async () => {
    server.failNext(
      (request) => request.method === 'PATCH' && request.path.includes('/virtualmachines/'),
      422,
      'Invalid',
    );
    await assert.rejects(provider.provision(SPEC), {
      code: 'PDK_KUBEVIRT_APPLY',
      message: new RegExp(
        `apply VirtualMachine ${NAMESPACE}/${SPEC.id}: HTTP 422 \\(Invalid injected by the test\\)`,
      ),
    });
    const stranger = new KubeVirtProvider({ api: apiFor(server, 'wrong-token'), settings });
    await assert.rejects(stranger.stop('ws-unknown00000'), {
      code: 'PDK_KUBEVIRT_APPLY',
      message: /HTTP 401/,
    });
  });

  it('revoke (stand-in API server): another replica (no cache) deletes the identity, cuts egress, halts the VM', async () => {
    assert.equal(vm()?.['spec']['runStrategy'], 'Always');
    const otherReplica = new KubeVirtProvider({ api: apiFor(server), settings });
    await otherReplica.dropCredentials(SPEC.id);
    assert.equal(server.get('v1', 'Secret', identitySecretName(SPEC.id), NAMESPACE), undefined);
    const policy = server.get('networking.k8s.io/v1', 'NetworkPolicy', 'paddock-default-deny', NAMESPACE);
    assert.deepEqual(policy?.['spec']['egress'], []);
    assert.deepEqual(policy?.['spec']['policyTypes'], ['Ingress', 'Egress']);
    assert.equal(vm()?.['spec']['runStrategy'], 'Halted');
    await otherReplica.dropCredentials(SPEC.id); // idempotent
    // For good: no replica provisions or starts it again.
    await assert.rejects(provider.provision(SPEC), { code: 'PDK_KUBEVIRT_WORKSPACE_REVOKED' });
  });

  it('destroy (stand-in API server): the VM, its DataVolumes and Secrets, then the empty namespace are deleted', async () => {
    await provider.destroy(SPEC.id);
    const left = [...server.objects.keys()].filter(
      (objectKey) => objectKey.includes(`/${NAMESPACE}/`) || objectKey.endsWith(`/${NAMESPACE}`),
    );
    assert.deepEqual(left, []);
    assert.equal(provider.status(SPEC.id), 'absent');
    await provider.destroy(SPEC.id); // idempotent
    await provider.stop(SPEC.id); // nothing to stop
  });
});
