import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import {
  GUEST,
  guestAnchorFile,
  type KubeObject,
  KubeVirtProvider,
  kubeApiFrom,
  namespaceOf,
  renderKubeVirt,
  SECRET_MAX_BYTES,
  WINDOWS_GUEST,
  windowsGuestAnchorFile,
} from '../../../src/providers/kubevirt/index.ts';
import { RELEASE_ROOT_MAX_BYTES } from '../../../src/providers/release-anchor.ts';
import { fixtureAnchor, RELEASE_ROOT_FILE } from '../release-fixture.ts';
import { FIXTURE_DIR, fixtureSettings, releasesFixtureInput, windowsFixtureInput } from './render-fixture.ts';
import { type StandInApiServer, startStandInApiServer } from './stand-in-api-server.ts';

// WorkspaceSpec.releases on KubeVirt: the channel's root.json travels in the cloud-init Secret
// (the VM cannot read the control plane's files) and the supervisor's config follows the
// channel. Each check parses the root back out of the rendered user data and compares bytes.

// biome-ignore lint/suspicious/noExplicitAny: YAML and JSON documents
type Json = Record<string, any>;

interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly encoding?: string;
  readonly permissions: string;
}

function userDataOf(objects: readonly KubeObject[], workspaceId: string): string {
  const secret = objects.find(
    (object) => object.kind === 'Secret' && object.metadata.name === `${workspaceId}-cloud-init`,
  ) as unknown as { data: { userdata: string } } | undefined;
  assert.ok(secret, `no cloud-init Secret of ${workspaceId}`);
  return Buffer.from(secret.data.userdata, 'base64').toString('utf8');
}

/** Linux: the anchor and supervisor config out of the `#cloud-config`. */
function linuxBoot(userData: string): { files: WriteFile[]; config: Json } {
  const files = (parse(userData) as { write_files: WriteFile[] }).write_files;
  const config = JSON.parse(files.find((file) => file.path === GUEST.supervisorConfig)?.content ?? '{}');
  return { files, config };
}

function fileBytes(file: WriteFile | undefined): Buffer {
  assert.ok(file, 'file not written');
  assert.equal(file.encoding, 'b64');
  return Buffer.from(file.content, 'base64');
}

/** Windows: every `Write-Gz 'PATH' 'B64'` line of the PowerShell user data, decompressed. */
function windowsFiles(userData: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const match of userData.matchAll(/^Write-Gz '([^']+)' '([A-Za-z0-9+/=]+)'\r?$/gm))
    files.set(match[1] ?? '', gunzipSync(Buffer.from(match[2] ?? '', 'base64')));
  return files;
}

const all = (render: ReturnType<typeof renderKubeVirt>) => [...render.namespaces.values()].flat();

describe('kubevirt: signed release channel and root carried into the VM', () => {
  it('Linux: the cloud-init Secret writes the pinned root byte for byte, and the supervisor follows the channel', async () => {
    const input = await releasesFixtureInput();
    const [withReleases, without] = input.workspaces;
    assert.ok(withReleases?.releases && without && !without.releases);
    const objects = all(renderKubeVirt(input));

    const { files, config } = linuxBoot(userDataOf(objects, withReleases.id));
    const anchorPath = guestAnchorFile(fixtureAnchor());
    assert.equal(anchorPath, '/etc/paddock/releases/canary.root.json');
    assert.deepEqual(fileBytes(files.find((file) => file.path === anchorPath)), fixtureAnchor().root);
    assert.deepEqual(config.releases, {
      channel: 'canary',
      rootFile: anchorPath,
      stateDir: GUEST.releasesState,
    });
    // The state directory is outside what the sandbox sees (workspace and home).
    assert.ok(
      !GUEST.releasesState.startsWith(GUEST.workdir) && !GUEST.releasesState.startsWith(GUEST.homeDir),
    );

    // A workspace without releases gets neither the anchor nor a releases block.
    const plain = linuxBoot(userDataOf(objects, without.id));
    assert.equal(plain.config.releases, undefined);
    assert.ok(!plain.files.some((file) => file.path.startsWith(GUEST.releasesAnchorDir)));
  });

  it('Windows: the cloudbase-init user data writes the pinned root byte for byte, and the supervisor follows the channel', async () => {
    const input = await windowsFixtureInput();
    const [withReleases] = input.workspaces;
    assert.ok(withReleases?.releases);
    const files = windowsFiles(userDataOf(all(renderKubeVirt(input)), withReleases.id));
    const anchorPath = windowsGuestAnchorFile(fixtureAnchor());
    assert.equal(anchorPath, 'C:\\ProgramData\\Paddock\\releases\\canary.root.json');
    assert.deepEqual(files.get(anchorPath), fixtureAnchor().root);
    const config = JSON.parse(files.get(WINDOWS_GUEST.supervisorConfig)?.toString('utf8') ?? '{}');
    assert.deepEqual(config.releases, {
      channel: 'canary',
      rootFile: anchorPath,
      stateDir: WINDOWS_GUEST.releasesState,
    });
  });

  it('a root at the supervisor limit (512 KiB) still fits the cloud-init Secret (secretRef, never inline)', async () => {
    const input = await releasesFixtureInput();
    const [first, ...rest] = input.workspaces;
    assert.ok(first);
    const padded = JSON.stringify({ signed: { _type: 'root', pad: '' } });
    const big = Buffer.from(
      JSON.stringify({ signed: { _type: 'root', pad: 'x'.repeat(RELEASE_ROOT_MAX_BYTES - padded.length) } }),
    );
    assert.equal(big.length, RELEASE_ROOT_MAX_BYTES);
    const objects = all(
      renderKubeVirt({
        ...input,
        workspaces: [{ ...first, releases: { channel: 'canary', root: big } }, ...rest],
      }),
    );
    const userData = userDataOf(objects, first.id);
    assert.ok(Buffer.byteLength(userData) < SECRET_MAX_BYTES);
    const { files } = linuxBoot(userData);
    assert.deepEqual(fileBytes(files.find((file) => file.path === guestAnchorFile(fixtureAnchor()))), big);
  });

  it('a broken anchor is refused before anything is rendered (fail closed: the guest would deny everything forever)', async () => {
    const input = await releasesFixtureInput();
    const [first, ...rest] = input.workspaces;
    assert.ok(first);
    const cases: [string, { channel: string; root: Uint8Array }, RegExp][] = [
      ['not JSON', { channel: 'canary', root: Buffer.from('not json') }, /not JSON/],
      [
        'not a root',
        { channel: 'canary', root: Buffer.from('{"signed":{"_type":"targets"}}') },
        /not TUF root metadata/,
      ],
      ['a path in the channel', { channel: '../etc', root: fixtureAnchor().root }, /not a DNS label/],
      [
        'over the limit',
        { channel: 'canary', root: Buffer.alloc(RELEASE_ROOT_MAX_BYTES + 1, 0x20) },
        /over the supervisor's/,
      ],
    ];
    for (const [name, releases, message] of cases)
      assert.throws(
        () => renderKubeVirt({ ...input, workspaces: [{ ...first, releases }, ...rest] }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'PDK_WORKSPACE_PROVIDER', name);
          assert.match(error.message, message, name);
          return true;
        },
      );
  });
});

describe('kubevirt provider: WorkspaceSpec.releases (stand-in API server)', () => {
  let server: StandInApiServer;
  const spec: WorkspaceSpec = {
    id: 'ws-0123456789ab',
    owner: 'erin@example.com',
    profile: 'large-kubevirt',
    blueprint: 'docs-research',
    configDir: FIXTURE_DIR,
    releases: { channel: 'canary', rootFile: RELEASE_ROOT_FILE },
  };
  const namespace = namespaceOf('paddock-ws-', spec.owner);

  before(async () => {
    server = await startStandInApiServer();
  });
  after(() => server.close());

  function provider(): KubeVirtProvider {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'stand-in', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'paddock', token: server.token }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'paddock' }],
      currentContext: 'stand-in',
    });
    return new KubeVirtProvider({ api: kubeApiFrom(config), settings: fixtureSettings() });
  }

  it('start (stand-in API server): the applied cloud-init Secret carries the root file byte for byte and the channel', async () => {
    const { identity } = await generateIdentity(spec.id);
    await provider().start(spec, identity, 'ws://127.0.0.1:1/channel');
    const secret = server.get('v1', 'Secret', `${spec.id}-cloud-init`, namespace);
    assert.ok(secret);
    const { files, config } = linuxBoot(Buffer.from(secret['data'].userdata, 'base64').toString('utf8'));
    assert.deepEqual(
      fileBytes(files.find((file) => file.path === guestAnchorFile(fixtureAnchor()))),
      fixtureAnchor().root,
    );
    assert.equal(config.releases.channel, 'canary');
  });

  it('start (stand-in API server): a root file that cannot be read fails the start before anything is applied', async () => {
    const { identity } = await generateIdentity(spec.id);
    const before = server.requests.length;
    await assert.rejects(
      provider().start(
        {
          ...spec,
          id: 'ws-00000000beef',
          releases: { channel: 'canary', rootFile: `${RELEASE_ROOT_FILE}.missing` },
        },
        { ...identity, workspaceId: 'ws-00000000beef' },
        'ws://127.0.0.1:1/channel',
      ),
      (error: Error & { code?: string }) => error.code === 'PDK_WORKSPACE_PROVIDER',
    );
    // Nothing was applied: not even the identity Secret (the render is checked first).
    assert.deepEqual(
      server.requests.slice(before).filter((request) => request.method !== 'GET'),
      [],
    );
  });
});
