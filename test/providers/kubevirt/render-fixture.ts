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

// The renderer's test input: the fixture desired state (two kubevirt users, one local) and the
// fixture settings with every optional resource on.

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
