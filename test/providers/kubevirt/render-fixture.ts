import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { requireValidRepository } from '../../../src/config/index.ts';
import {
  desiredStateFilesOf,
  type KubeVirtRenderInput,
  type KubeVirtSettings,
  type KubeVirtWorkspace,
  kubevirtWorkspacesOf,
  parseKubeVirtSettings,
} from '../../../src/providers/kubevirt/index.ts';
import { fixtureAnchor } from '../release-fixture.ts';

// The renderer's test input: the fixture desired state (two kubevirt users, one local) and the
// fixture settings with every optional resource on. The releases input has the first workspace
// follow the canary release channel (its root pinned, as the control plane renders it) and the
// second not (as `paddock render kubevirt` renders both). The Windows input is the releases input
// on the Windows profile.

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/desired-state/', import.meta.url));
export const SETTINGS_FILE = fileURLToPath(new URL('./fixtures/settings.yaml', import.meta.url));
export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

export function fixtureSettings(overrides: Record<string, unknown> = {}): KubeVirtSettings {
  const raw = parse(readFileSync(SETTINGS_FILE, 'utf8')) as Record<string, unknown>;
  return parseKubeVirtSettings({ ...raw, ...overrides });
}

export async function fixtureInput(
  settings: KubeVirtSettings = fixtureSettings(),
): Promise<KubeVirtRenderInput> {
  const { state } = await requireValidRepository(FIXTURE_DIR);
  return {
    workspaces: kubevirtWorkspacesOf(state),
    settings,
    desiredStateFiles: await desiredStateFilesOf(state),
  };
}

export async function fixtureWorkspace(): Promise<KubeVirtWorkspace> {
  const input = await fixtureInput();
  const workspace = input.workspaces[0];
  if (!workspace) throw new Error('fixture has no kubevirt workspace');
  return workspace;
}

/** The fixture with its first workspace following the canary channel. */
export async function releasesFixtureInput(
  settings: KubeVirtSettings = fixtureSettings(),
): Promise<KubeVirtRenderInput> {
  const input = await fixtureInput(settings);
  const [first, ...rest] = input.workspaces;
  return { ...input, workspaces: first ? [{ ...first, releases: fixtureAnchor() }, ...rest] : [] };
}

/** The releases fixture's workspaces on the (unassigned) Windows profile `windows-kubevirt`. */
export async function windowsFixtureInput(
  settings: KubeVirtSettings = fixtureSettings(),
): Promise<KubeVirtRenderInput> {
  const input = await releasesFixtureInput(settings);
  const { state } = await requireValidRepository(FIXTURE_DIR);
  const profile = state.profiles.get('windows-kubevirt')?.value;
  if (!profile) throw new Error('fixture has no windows-kubevirt profile');
  return {
    ...input,
    workspaces: input.workspaces.map((workspace) => ({
      ...workspace,
      profileName: 'windows-kubevirt',
      profile: profile.spec,
    })),
  };
}
