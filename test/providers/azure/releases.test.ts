import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { generateIdentity } from '../../../src/core/channel/index.ts';
import {
  AzureProvider,
  CUSTOM_DATA_MAX_BASE64,
  renderAzure,
  workspaceNames,
} from '../../../src/providers/azure/index.ts';
import type { WorkspaceSpec } from '../../../src/providers/index.ts';
import type { ArmTemplate } from '../../../src/providers/azure/arm.ts';
import { fixtureAnchor, RELEASE_ROOT_FILE } from '../release-fixture.ts';
import { ArmSchemas } from './arm-schemas.ts';
import { type ArmStandIn, StandInCredential, startArmStandIn } from './arm-standin.ts';
import { FIXTURE_DIR, fixtureSettings, releasesFixtureInput } from './render-fixture.ts';

// WorkspaceSpec.releases on Azure: the channel's root.json travels in custom data (the VM cannot
// read the control plane's files), under Azure's 64 KiB limit, and the supervisor's config
// follows the channel. Each check parses the root back out of the rendered custom data.

// biome-ignore lint/suspicious/noExplicitAny: ARM documents
type Json = Record<string, any>;

function customDataOf(template: ArmTemplate | Json): string {
  const vm = (template as Json).resources.find(
    (entry: Json) => entry.type === 'Microsoft.Compute/virtualMachines',
  );
  assert.ok(vm);
  return vm.properties.osProfile.customData;
}

/** Linux custom data: cloud-config whose write_files are gz+b64. */
function linuxFiles(customData: string): Map<string, Buffer> {
  const document = parse(Buffer.from(customData, 'base64').toString('utf8')) as {
    write_files: { path: string; encoding: string; content: string }[];
  };
  return new Map(
    document.write_files.map((file) => {
      assert.equal(file.encoding, 'gz+b64');
      return [file.path, gunzipSync(Buffer.from(file.content, 'base64'))];
    }),
  );
}

/** Windows custom data: the PowerShell bootstrap's `Write-Gz PATH 'B64'` lines. */
function windowsFiles(customData: string): Map<string, Buffer> {
  const script = Buffer.from(customData, 'base64').toString('utf8');
  const files = new Map<string, Buffer>();
  for (const match of script.matchAll(
    /^Write-Gz (?:'([^']+)'|\(Join-Path \$root '([^']+)'\)) '([A-Za-z0-9+/=]+)'\r?$/gm,
  ))
    files.set(
      match[1] ?? `C:\\ProgramData\\Paddock\\${match[2]}`,
      gunzipSync(Buffer.from(match[3] ?? '', 'base64')),
    );
  return files;
}

describe('azure: signed release channel and root carried into the VM (custom data)', () => {
  it('Linux and Windows: custom data writes the pinned root byte for byte; the supervisor follows the channel; under the 64 KiB limit', async () => {
    const input = await releasesFixtureInput();
    const render = renderAzure(input);
    const byOs = new Map<string, ArmTemplate>();
    for (const workspace of input.workspaces) {
      const os = input.state.profiles.get(workspace.profile)?.value.spec.os ?? 'linux';
      const template = render.workspaces.get(workspace.id);
      assert.ok(template);
      byOs.set(os, template);
    }
    const linux = byOs.get('linux');
    const windows = byOs.get('windows');
    assert.ok(linux && windows, 'the fixture has one workspace of each');

    const linuxData = customDataOf(linux);
    const linuxWritten = linuxFiles(linuxData);
    assert.deepEqual(linuxWritten.get('/etc/paddock/releases/canary.root.json'), fixtureAnchor().root);
    const linuxConfig = JSON.parse(
      linuxWritten.get('/etc/paddock/supervisor.json')?.toString('utf8') ?? '{}',
    );
    assert.deepEqual(linuxConfig.releases, {
      channel: 'canary',
      rootFile: '/etc/paddock/releases/canary.root.json',
      // On the data disk: a rebuild neither loses nor rolls back the trusted metadata.
      stateDir: '/var/lib/paddock/releases',
    });

    const windowsData = customDataOf(windows);
    const windowsWritten = windowsFiles(windowsData);
    assert.deepEqual(
      windowsWritten.get('C:\\ProgramData\\Paddock\\releases\\canary.root.json'),
      fixtureAnchor().root,
    );
    const windowsConfig = JSON.parse(
      windowsWritten.get('C:\\ProgramData\\Paddock\\supervisor.json')?.toString('utf8') ?? '{}',
    );
    assert.deepEqual(windowsConfig.releases, {
      channel: 'canary',
      rootFile: 'C:\\ProgramData\\Paddock\\releases\\canary.root.json',
      stateDir: 'P:\\releases',
    });
    for (const data of [linuxData, windowsData]) assert.ok(data.length < CUSTOM_DATA_MAX_BASE64);
  });

  it('a root that would push custom data over the 64 KiB limit is refused with PDK_AZURE_CUSTOM_DATA_TOO_LARGE (nothing deployed)', async () => {
    const input = await releasesFixtureInput();
    // Incompressible (random hex inside a valid root document): gzip cannot hide it.
    const noise = Buffer.alloc(48 * 1024);
    for (let index = 0; index < noise.length; index++) noise[index] = Math.floor(Math.random() * 256);
    const root = Buffer.from(JSON.stringify({ signed: { _type: 'root', pad: noise.toString('hex') } }));
    assert.throws(
      () =>
        renderAzure({
          ...input,
          workspaces: input.workspaces.map((workspace) => ({
            ...workspace,
            releases: { channel: 'canary', root },
          })),
        }),
      (error: Error & { code?: string }) => error.code === 'PDK_AZURE_CUSTOM_DATA_TOO_LARGE',
    );
  });

  it('a broken anchor is refused at render time (fail closed)', async () => {
    const input = await releasesFixtureInput();
    for (const releases of [
      { channel: 'canary', root: Buffer.from('{"signed":{"_type":"snapshot"}}') },
      { channel: 'Canary/../x', root: fixtureAnchor().root },
    ])
      assert.throws(
        () =>
          renderAzure({
            ...input,
            workspaces: input.workspaces.map((workspace) => ({ ...workspace, releases })),
          }),
        (error: Error & { code?: string }) => error.code === 'PDK_WORKSPACE_PROVIDER',
      );
  });
});

describe('azure provider: WorkspaceSpec.releases (stand-in ARM)', () => {
  let standIn: ArmStandIn;
  let dataDir: string;
  const settings = fixtureSettings();
  const spec: WorkspaceSpec = {
    id: 'ws-0003',
    owner: 'carol@example.com',
    profile: 'analyst-azure',
    blueprint: 'data-analysis',
    configDir: FIXTURE_DIR,
    releases: { channel: 'canary', rootFile: RELEASE_ROOT_FILE },
  };

  before(async () => {
    standIn = await startArmStandIn(new ArmSchemas());
    dataDir = mkdtempSync(join(tmpdir(), 'azure-releases-'));
  });
  after(async () => {
    await standIn.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const provider = () =>
    new AzureProvider({
      settings,
      dataDir,
      credential: new StandInCredential(),
      endpoint: standIn.url,
      ca: standIn.ca,
      pollIntervalMs: 5,
    });

  it('start (stand-in ARM): the deployed VM custom data carries the root file byte for byte', async () => {
    const { identity } = await generateIdentity(spec.id);
    await provider().start(spec, identity, 'ws://127.0.0.1:1/channel');
    const vmId = [...standIn.resources.keys()].find((id) =>
      id.endsWith(`/microsoft.compute/virtualmachines/${workspaceNames(settings, spec.id).vm}`.toLowerCase()),
    );
    assert.ok(vmId);
    const vm = standIn.resources.get(vmId) as Json;
    const written = linuxFiles(vm.properties.osProfile.customData);
    assert.deepEqual(written.get('/etc/paddock/releases/canary.root.json'), fixtureAnchor().root);
  });

  it('start (stand-in ARM): a root file that cannot be read fails before any deployment', async () => {
    const other = {
      ...spec,
      id: 'ws-0004',
      releases: { channel: 'canary', rootFile: `${RELEASE_ROOT_FILE}.missing` },
    };
    const { identity } = await generateIdentity(other.id);
    standIn.requests.length = 0;
    await assert.rejects(
      provider().start(other, identity, 'ws://127.0.0.1:1/channel'),
      (error: Error & { code?: string }) => error.code === 'PDK_WORKSPACE_PROVIDER',
    );
    assert.deepEqual(standIn.requests, []);
  });
});
