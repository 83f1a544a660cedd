import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { createReleaseEndpoint, type ReleaseRepository } from '../../../src/controlplane/releases/index.ts';
import { openStore, sqliteStoreUrl } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { RELEASE_CHUNK_BYTES, writeIdentityFile } from '../../../src/core/channel/index.ts';
import { channelBundleUpdates, PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import {
  commitAll,
  exampleRepository,
  releaseCommit,
  releaseRepository,
  tempDir,
} from '../../support/releases.ts';

// Releases over the real workspace channel: a real ChannelServer serves the release repository,
// a real ChannelClient fetches, verifies, applies and attests; `paddock policy status` data
// (endpoint.workspaces) shows the applied bundle and flags drift.

const WS = 'ws-release-1';

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('bundle updates over the workspace channel', () => {
  const temp = tempDir('paddock-release-channel-');
  let source: { dir: string; commit: string };
  let repository: ReleaseRepository;
  let registry: IdentityRegistry;
  let store: Store;

  before(async () => {
    store = await openStore({ url: sqliteStoreUrl(temp.path) }); // attestations, as paddock up keeps them
    source = exampleRepository(temp.path);
    repository = await releaseRepository(join(temp.path, 'releases'));
    registry = new IdentityRegistry();
    writeIdentityFile(join(temp.path, 'identity.json'), await registry.issue(WS));
  });
  after(async () => {
    await store.close();
    temp.cleanup();
  });

  it('fetches, applies, attests on notify, and status flags drift', async () => {
    const endpoint = createReleaseEndpoint({ repository, attestations: store });
    const server = await ChannelServer.start({ registry, releases: endpoint });
    const holder = new PolicyHolder();
    let client: ChannelClient | undefined;
    const updates = channelBundleUpdates({
      channel: 'canary',
      blueprint: 'code-review',
      stateDir: join(temp.path, 'supervisor'),
      initialRoot: repository.trustedRoot('canary'),
      holder,
      send: (message) => client?.sendRelease(message) ?? false,
    });
    client = new ChannelClient({
      url: server.url,
      workspaceId: WS,
      identityFile: join(temp.path, 'identity.json'),
      openTerminal: async () => {
        throw new Error('no terminals in this test');
      },
      onRelease: (message) => updates.onRelease(message),
      onConnected: () => updates.onConnected(),
      onDisconnected: () => updates.onDisconnected(),
    });
    try {
      client.start();
      await server.waitForConnection(WS, 10_000);
      // Nothing released yet: deny-all, attested as such.
      await until(
        async () => (await endpoint.workspaces()).some((status) => status.workspaceId === WS),
        'the first attestation',
      );
      assert.equal((await endpoint.workspaces())[0]!.drift, 'deny-all');
      assert.equal(holder.denying, true);

      const first = await releaseCommit(repository, source.dir, source.commit, 'canary');
      assert.equal(first.status, 'published');
      assert.equal(server.notifyRelease('canary', first.version), 1);
      await until(async () => (await endpoint.workspaces())[0]?.drift === 'in-sync', 'the release to apply');
      const status = (await endpoint.workspaces())[0]!;
      const target = repository.status('canary').targets.find((entry) => entry.name === 'code-review')!;
      assert.deepEqual(status.attestation.bundle, {
        id: target.bundleId,
        version: '1.3.0',
        hash: target.sha256,
      });
      assert.equal(status.attestation.release, 1);
      assert.equal(status.current?.sha256, target.sha256);
      assert.deepEqual(holder.decide({ action: 'exec', argv: ['git', 'status'] }).bundle, {
        id: target.bundleId,
        version: '1.3.0',
      });

      // A release the workspace has not applied (not notified): status says it is behind.
      const { writeFileSync, readFileSync } = await import('node:fs');
      const file = join(source.dir, 'blueprints', 'code-review.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
      const second = commitAll(source.dir, 'allow npm ci');
      await releaseCommit(repository, source.dir, second, 'canary');
      assert.equal((await endpoint.workspaces())[0]!.drift, 'behind');
      server.notifyRelease('canary', 2);
      await until(async () => (await endpoint.workspaces())[0]?.drift === 'in-sync', 'the second release');
      assert.equal((await endpoint.workspaces())[0]!.attestation.commit, second);
      // A notification for another channel is not this workspace's business.
      assert.equal(holder.current.ref.release, 2);
    } finally {
      client.stop();
      await server.close();
    }
  });

  it('endless data over the channel: chunks past the limit end the fetch', async () => {
    const served: number[] = [];
    // A hostile control plane: every file is an endless stream of chunks.
    const hostile = {
      serve: (message: { requestId: number; maxBytes: number }) => {
        served.push(message.maxBytes);
        const chunk = Buffer.alloc(RELEASE_CHUNK_BYTES, 0x20).toString('base64');
        return Array.from({ length: 40 }, () => ({
          t: 'release_chunk' as const,
          requestId: message.requestId,
          data: chunk,
          last: false,
        }));
      },
      attest: async () => {},
    };
    const server = await ChannelServer.start({ registry, releases: hostile });
    const holder = new PolicyHolder();
    let client: ChannelClient | undefined;
    const updates = channelBundleUpdates({
      channel: 'canary',
      blueprint: 'code-review',
      stateDir: join(temp.path, 'supervisor-hostile'),
      initialRoot: repository.trustedRoot('canary'),
      holder,
      send: (message) => client?.sendRelease(message) ?? false,
    });
    client = new ChannelClient({
      url: server.url,
      workspaceId: WS,
      identityFile: join(temp.path, 'identity.json'),
      openTerminal: async () => {
        throw new Error('no terminals in this test');
      },
      onRelease: (message) => updates.onRelease(message),
      onDisconnected: () => updates.onDisconnected(),
    });
    try {
      client.start();
      await server.waitForConnection(WS, 10_000);
      await until(() => client?.connected === true, 'the welcome');
      const outcome = await updates.updater.update();
      assert.equal(outcome.result, 'rejected');
      assert.ok(outcome.result === 'rejected');
      assert.equal(outcome.error.code, 'PDK_RELEASE_TOO_LARGE');
      assert.equal(outcome.error.message, 'root/2.json exceeds its limit of 524288 bytes');
      assert.equal(holder.denying, true);
      assert.equal(served[0], 524288, 'the supervisor names its limit');
    } finally {
      client.stop();
      await server.close();
    }
  });
});
