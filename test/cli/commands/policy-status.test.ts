import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createReleaseEndpoint, readReleaseRepository } from '../../../src/controlplane/releases/index.ts';
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
    const endpoint = createReleaseEndpoint({ repository, dir: join(dataDir, 'releases', 'attestations') });
    const updater = new BundleUpdater({
      stateDir: join(temp.path, 'ws-1'),
      channel: 'stable',
      blueprint: 'code-review',
      initialRoot: repository.trustedRoot('stable'),
      fetch: repositoryFetch(repository, 'stable'),
      holder: new PolicyHolder(),
      attest: (attestation) => endpoint.attest('ws-1', attestation),
    });
    assert.equal((await updater.start()).result, 'applied');
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
    assert.equal((await cli('status')).code, 0);
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
