import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import {
  identitySecretName,
  type KubeApi,
  KubeVirtProvider,
  kubeApiFrom,
  namespaceOf,
} from '../../../src/providers/kubevirt/index.ts';
import { FIXTURE_DIR, fixtureSettings } from './render-fixture.ts';
import { type RecordedRequest, type StandInApiServer, startStandInApiServer } from './stand-in-api-server.ts';

// The kill switch against applies that race it, through the real @kubernetes/client-node
// against the STAND-IN API server (a loopback HTTP server; no cluster runs here). A revoked
// workspace never runs again, whichever replica asks and whatever was in flight: its start,
// even one already under way when the revoke ran, ends halted and without identity. Another
// workspace of the same owner (the reconciler gives a user who is still assigned a new one)
// provisions and starts as usual and leaves the revoked one as it is. The races are made
// deterministic by holding the racing apply's NetworkPolicy request at the stand-in until the
// revoke (from another replica: a provider with no cache) has finished.

// biome-ignore lint/suspicious/noExplicitAny: JSON documents
type Json = Record<string, any>;

const OWNER = 'erin@example.com';
const spec = (id: string): WorkspaceSpec => ({
  id,
  owner: OWNER,
  profile: 'large-kubevirt',
  blueprint: 'docs-research',
  configDir: FIXTURE_DIR,
});
const REVOKED = spec('ws-aaaaaaaaaaaa');
const SIBLING = spec('ws-bbbbbbbbbbbb');
const NAMESPACE = namespaceOf('paddock-ws-', OWNER);

function apiFor(server: StandInApiServer): KubeApi {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'stand-in', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'paddock', token: server.token }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'paddock' }],
    currentContext: 'stand-in',
  });
  return kubeApiFrom(config);
}

/** An apply of the namespace's NetworkPolicy that lets traffic out (not the revoke's own). */
const openingPolicy = (request: RecordedRequest) =>
  request.method === 'PATCH' &&
  request.path.endsWith('/networkpolicies/paddock-default-deny') &&
  ((request.body as Json)?.['spec']?.['egress']?.length ?? 0) > 0;

describe('kubevirt revoke against racing applies (stand-in API server, a request held)', () => {
  let server: StandInApiServer;
  let leader: KubeVirtProvider;
  let otherReplica: KubeVirtProvider;
  const settings = fixtureSettings();

  const egress = () =>
    server.get('networking.k8s.io/v1', 'NetworkPolicy', 'paddock-default-deny', NAMESPACE)?.['spec'][
      'egress'
    ];
  const runStrategy = (id: string) =>
    server.get('kubevirt.io/v1', 'VirtualMachine', id, NAMESPACE)?.['spec']['runStrategy'];
  const identityOf = (id: string) => server.get('v1', 'Secret', identitySecretName(id), NAMESPACE);
  const identity = async (id: string) => (await generateIdentity(id)).identity;

  before(async () => {
    server = await startStandInApiServer();
  });
  after(() => server.close());
  beforeEach(async () => {
    // A fresh cluster state each time: the revoked workspace running, its namespace open.
    server.objects.clear();
    leader = new KubeVirtProvider({ api: apiFor(server), settings });
    otherReplica = new KubeVirtProvider({ api: apiFor(server), settings });
    await leader.provision(REVOKED);
    await leader.start(REVOKED, await identity(REVOKED.id), '');
    assert.ok(egress().length > 0);
  });

  /** The revoked workspace as a revoke leaves it: halted, no identity, its marker there. */
  const assertStillRevoked = () => {
    assert.equal(runStrategy(REVOKED.id), 'Halted');
    assert.equal(identityOf(REVOKED.id), undefined);
    assert.ok(server.get('v1', 'Secret', `${REVOKED.id}-revoked`, NAMESPACE), 'its marker');
  };

  it('a revoked workspace is refused every later provision, start and rebuild, before anything is written (stand-in API server)', async () => {
    await otherReplica.dropCredentials(REVOKED.id);
    assert.deepEqual(egress(), []);
    const again = await identity(REVOKED.id);
    const writesBefore = server.requests.filter((request) => request.method !== 'GET').length;
    // From a third replica, which has no cached state of its own.
    const third = new KubeVirtProvider({ api: apiFor(server), settings });
    for (const attempt of [
      () => third.start(REVOKED, again, ''),
      () => third.provision(REVOKED),
      () => third.rebuild(REVOKED),
      () => leader.start(REVOKED, again, ''),
    ])
      await assert.rejects(attempt(), { code: 'PDK_KUBEVIRT_WORKSPACE_REVOKED' });
    assert.equal(server.requests.filter((request) => request.method !== 'GET').length, writesBefore);
    assertStillRevoked();
    assert.deepEqual(egress(), []);
  });

  it("the owner's new workspace provisions and starts after the revoke; the revoked one stays halted and without identity (stand-in API server)", async () => {
    await otherReplica.dropCredentials(REVOKED.id);
    // What the reconciler does next for a user still assigned: a new workspace, same namespace.
    await leader.provision(SIBLING);
    await leader.start(SIBLING, await identity(SIBLING.id), '');
    assert.equal(runStrategy(SIBLING.id), 'Always');
    assert.ok(identityOf(SIBLING.id));
    assert.ok(egress().length > 0, 'the new workspace reaches the control plane');
    assertStillRevoked();
    // Decommissioning removes the marker with the rest.
    await leader.destroy(REVOKED.id);
    assert.equal(server.get('v1', 'Secret', `${REVOKED.id}-revoked`, NAMESPACE), undefined);
  });

  it('a start of another workspace in flight during the revoke completes and leaves the revoked one halted (stand-in API server)', async () => {
    await leader.provision(SIBLING);
    const held = server.holdNext(openingPolicy);
    const starting = leader.start(SIBLING, await identity(SIBLING.id), '');
    await held.reached;
    await otherReplica.dropCredentials(REVOKED.id);
    held.release();
    await starting;
    assert.equal(runStrategy(SIBLING.id), 'Always');
    assertStillRevoked();
  });

  it('a start (e.g. a resume) of the revoked workspace itself, in flight when the revoke runs, is undone (stand-in API server)', async () => {
    await leader.stop(REVOKED.id);
    const held = server.holdNext(openingPolicy);
    const starting = leader.start(REVOKED, await identity(REVOKED.id), '');
    await held.reached;
    await otherReplica.dropCredentials(REVOKED.id);
    held.release();
    await assert.rejects(starting, { code: 'PDK_KUBEVIRT_WORKSPACE_REVOKED' });
    assert.deepEqual(egress(), []);
    assertStillRevoked();
    assert.equal(leader.status(REVOKED.id), 'stopped');
  });
});
