import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createReleaseEndpoint,
  type ReleaseRepository,
  startReleaseService,
} from '../../../src/controlplane/releases/index.ts';
import { openStore, sqliteStoreUrl } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { RELEASE_CHUNK_BYTES } from '../../../src/core/channel/index.ts';
import { exampleRepository, releaseCommit, releaseRepository, tempDir } from '../../support/releases.ts';

// The control plane's side: serving repository files in chunks within the supervisor's limit,
// recording attestations, and the release service that refreshes timestamps and notifies.

describe('release endpoint and service', () => {
  const temp = tempDir('paddock-release-endpoint-');
  let source: { dir: string; commit: string };
  let repository: ReleaseRepository;
  let now = new Date();
  let store: Store;
  before(async () => {
    store = await openStore({ url: sqliteStoreUrl(temp.path) });
    source = exampleRepository(temp.path);
    repository = await releaseRepository(join(temp.path, 'releases'), { now: () => now });
    await releaseCommit(repository, source.dir, source.commit, 'canary');
  });
  after(async () => {
    await store.close();
    temp.cleanup();
  });

  it('serves a file in chunks, never more than one byte past the limit, and says when one is missing', () => {
    const endpoint = createReleaseEndpoint({ repository, attestations: store });
    const target = repository.status('canary').targets.find((entry) => entry.name === 'code-review')!;
    const path = `targets/${target.sha256}.code-review.json`;
    const whole = endpoint.serve({
      t: 'release_fetch',
      requestId: 3,
      channel: 'canary',
      path,
      maxBytes: 1 << 20,
    });
    const bytes = Buffer.concat(whole.map((m) => Buffer.from((m as { data: string }).data, 'base64')));
    assert.equal(bytes.byteLength, target.length);
    assert.deepEqual(whole.map((m) => (m as { last: boolean }).last).at(-1), true);
    assert.ok(
      whole.every(
        (m) => Buffer.from((m as { data: string }).data, 'base64').byteLength <= RELEASE_CHUNK_BYTES,
      ),
    );
    const cut = endpoint.serve({ t: 'release_fetch', requestId: 4, channel: 'canary', path, maxBytes: 100 });
    assert.equal(cut.length, 1);
    assert.equal(Buffer.from((cut[0] as { data: string }).data, 'base64').byteLength, 101);
    assert.deepEqual(
      endpoint.serve({
        t: 'release_fetch',
        requestId: 5,
        channel: 'canary',
        path: 'root/2.json',
        maxBytes: 100,
      }),
      [{ t: 'release_missing', requestId: 5 }],
    );
  });

  it('notifies each channel whose timestamp changed, and refreshes timestamps before they expire', async () => {
    const told: [string, number][] = [];
    const service = startReleaseService({
      repository,
      notify: (channel, version) => told.push([channel, version]),
      intervalMs: 60_000,
    });
    try {
      await service.tick();
      assert.deepEqual(told, [['canary', 1]], 'stable has no release yet');
      await service.tick();
      assert.equal(told.length, 1, 'nothing new, nobody told');
      now = new Date(now.getTime() + 13 * 3600 * 1000);
      await service.tick();
      assert.deepEqual(told.at(-1), ['canary', 2], 'the timestamp was re-signed and announced');
      assert.equal(repository.status('canary').targetsVersion, 1);
    } finally {
      service.stop();
    }
  });
});
