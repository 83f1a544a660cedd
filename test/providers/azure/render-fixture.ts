import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { requireValidRepository } from '../../../src/config/index.ts';
import {
  type AzureRender,
  type AzureRenderInput,
  type AzureSettings,
  azureWorkspacesOf,
  desiredStateFiles,
  parseAzureSettings,
  renderAzure,
} from '../../../src/providers/azure/index.ts';
import { fixtureAnchor } from '../release-fixture.ts';

// The renderer's test input: the fixture desired state (a Linux analyst through a group, a
// Windows developer by name; blueprints with inspected and passthrough services) and settings
// whose corporate ranges cover the hub and spoke (the hardest case for the NSG ordering). In the
// releases input both workspaces follow the canary channel, its root pinned, as the control plane
// renders them (`paddock render azure` renders without).

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/desired-state/', import.meta.url));
export const SETTINGS_FILE = fileURLToPath(new URL('./fixtures/settings.yaml', import.meta.url));
export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
/** Workspaces rendered with a release channel (not what `paddock render azure` writes: kept apart). */
export const RELEASES_GOLDEN_DIR = fileURLToPath(new URL('./golden/releases/', import.meta.url));

export function fixtureSettings(overrides: Record<string, unknown> = {}): AzureSettings {
  const raw = parse(readFileSync(SETTINGS_FILE, 'utf8')) as Record<string, unknown>;
  return parseAzureSettings({ ...raw, ...overrides });
}

export async function fixtureInput(settings: AzureSettings = fixtureSettings()): Promise<AzureRenderInput> {
  const { state, blueprints } = await requireValidRepository(FIXTURE_DIR);
  return {
    settings,
    state,
    blueprints,
    workspaces: azureWorkspacesOf(state),
    files: await desiredStateFiles(state),
  };
}

export async function releasesFixtureInput(
  settings: AzureSettings = fixtureSettings(),
): Promise<AzureRenderInput> {
  const input = await fixtureInput(settings);
  return {
    ...input,
    workspaces: input.workspaces.map((workspace) => ({ ...workspace, releases: fixtureAnchor() })),
  };
}

export async function fixtureRender(): Promise<AzureRender> {
  return renderAzure(await fixtureInput());
}
