import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createReleaseEndpoint, readReleaseRepository } from '../../../src/controlplane/releases/index.ts';
import { openStore, sqliteStoreUrl } from '../../../src/controlplane/store/open-store.ts';
import { BundleUpdater, PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { commitAll, exampleRepository, repositoryFetch, tempDir } from '../../support/releases.ts';
import { runCli } from './run-cli.ts';

// `paddock policy release | promote | cosign | status` over a real release repository, with a
// real supervisor's updater attesting what it applied.

describe('paddock policy release, promote, cosign and status', () => {
  const temp = tempDir('paddock-cli-policy-');
  let source: { dir: string; commit: string };
  let dataDir: string;
  const cli = (...args: string[]) => runCli(['policy', ...args, '--data-dir', dataDir], temp.path);
  before(() => {
    source = exampleRepository(temp.path);
    dataDir = join(temp.path, 'data');
  });
  after(() => temp.cleanup());

  it('releases a commit to canary, promotes it to stable with two signers, and shows drift', async () => {
    const released = await cli('release', '--repo', source.dir, '--commit', 'main', '--json');
    assert.equal(released.code, 0, released.stderr);
    const outcome = JSON.parse(released.stdout);
    assert.equal(outcome.status, 'published');
    assert.equal(outcome.channel, 'canary');
    assert.equal(outcome.targets.length, 6);

    // The examples declare stable with threshold 2: one key leaves the promotion pending.
    const keys = join(dataDir, 'releases', 'keys', 'stable');
    const pending = await cli('promote', '--sign-with', join(keys, 'signer-1.pem'));
    assert.equal(pending.code, 0, pending.stderr);
    assert.equal(
      pending.stdout,
      'stable: release 1 waits for signatures (1 of 2); another signer runs `paddock policy cosign --channel stable --sign-with KEYFILE`\n',
    );
    const cosigned = await cli('cosign', '--channel', 'stable', '--sign-with', join(keys, 'signer-2.pem'));
    assert.equal(cosigned.code, 0, cosigned.stderr);
    assert.match(cosigned.stdout, /^stable: published release 1\n {2}code-review /);

    // A workspace on stable applies it and attests.
    const repository = readReleaseRepository(join(dataDir, 'releases'));
    // Attestations go to paddock up's store in the data directory, where status reads them.
    const store = await openStore({ url: sqliteStoreUrl(dataDir) });
    const endpoint = createReleaseEndpoint({ repository, attestations: store });
    let attested: Promise<void> = Promise.resolve();
    const updater = new BundleUpdater({
      stateDir: join(temp.path, 'ws-1'),
      channel: 'stable',
      blueprint: 'code-review',
      initialRoot: repository.trustedRoot('stable'),
      fetch: repositoryFetch(repository, 'stable'),
      holder: new PolicyHolder(),
      attest: (attestation) => {
        attested = endpoint.attest('ws-1', attestation);
      },
    });
    assert.equal((await updater.start()).result, 'applied');
    await attested;
    const inSync = await cli('status');
    assert.equal(inSync.code, 0, inSync.stdout);
    assert.match(inSync.stdout, /^channel canary: release 1 \(threshold 1, root 1, timestamp expires .+\)$/m);
    assert.match(inSync.stdout, /^channel stable: release 1 \(threshold 2, root 1, timestamp expires .+\)$/m);
    assert.match(
      inSync.stdout,
      /^ {2}ws-1 +stable\/code-review {2}applied code-review:[0-9a-f]{16} \(release 1\) {2}current code-review:[0-9a-f]{16} \(release 1\) {2}IN-SYNC$/m,
    );

    // A new commit promoted to stable: the workspace (not told) is behind.
    const file = join(source.dir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
    commitAll(source.dir, 'allow npm ci');
    assert.equal((await cli('release', '--repo', source.dir)).code, 0);
    const promoted = await cli(
      'promote',
      '--from',
      'canary',
      '--to',
      'stable',
      '--blueprint',
      'code-review',
      '--json',
    );
    assert.equal(JSON.parse(promoted.stdout).status, 'published', 'default signers: both embedded keys');
    const behind = await cli('status', '--json');
    assert.equal(behind.code, 1);
    const status = JSON.parse(behind.stdout);
    assert.equal(status.workspaces[0].drift, 'behind');
    assert.equal(status.workspaces[0].attestation.release, 1);
    assert.equal(status.workspaces[0].current.release, 2);
    await updater.update();
    await attested;
    assert.equal((await cli('status')).code, 0);
    await store.close();
  });

  it("rotates a channel's root on the data directory: the new key signs from then on", async () => {
    const newKey = join(temp.path, 'canary-new.pem');
    writeFileSync(
      newKey,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
      {
        mode: 0o600,
      },
    );
    const before = JSON.parse((await cli('status', '--json')).stdout).channels[0];
    const rotated = await cli('rotate-root', '--channel', 'canary', '--new-signer', newKey, '--json');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.deepEqual(JSON.parse(rotated.stdout), {
      channel: 'canary',
      rootVersion: before.rootVersion + 1,
      targetsVersion: before.targetsVersion + 1,
    });
    // The old key files no longer count: a release signed by them waits for the new key.
    const file = join(source.dir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm run lint"'));
    commitAll(source.dir, 'allow npm run lint');
    const stale = await cli('release', '--repo', source.dir);
    assert.match(stale.stdout, /^canary: release \d+ waits for signatures \(0 of 1\)/);
    const cosigned = await cli('cosign', '--channel', 'canary', '--sign-with', newKey);
    assert.equal(cosigned.code, 0, cosigned.stderr);
    assert.match(cosigned.stdout, /^canary: published release /);
    const bad = await cli('rotate-root', '--channel', 'canary', '--new-signer', newKey, '--threshold', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PDK_CLI_USAGE: --threshold must be a whole number of at least 1/);
    const none = await cli('rotate-root', '--channel', 'canary');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /PDK_CLI_USAGE: paddock policy rotate-root needs --new-signer FILE/);
  });

  it('reports usage errors and an empty repository', async () => {
    const empty = await runCli(['policy', 'status', '--data-dir', join(temp.path, 'nothing')], temp.path);
    assert.equal(empty.code, 0);
    assert.equal(
      empty.stdout,
      'no release channels yet (nothing has been released)\nno workspace has attested a bundle\n',
    );
    const cosign = await cli('cosign');
    assert.equal(cosign.code, 2);
    assert.match(cosign.stderr, /PDK_CLI_USAGE: paddock policy cosign needs --sign-with FILE/);
    const unknown = await cli('promote', '--from', 'nightly');
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /PDK_RELEASE_CHANNEL: no release channel "nightly" \(channels: canary, stable\)/,
    );
  });
});
