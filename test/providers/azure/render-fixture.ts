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

// The renderer's test input: the fixture desired state (a Linux analyst through a group, a
// Windows developer by name; blueprints with inspected and passthrough services) and settings
// whose corporate ranges cover the hub and spoke (the hardest case for the NSG ordering).

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/desired-state/', import.meta.url));
export const SETTINGS_FILE = fileURLToPath(new URL('./fixtures/settings.yaml', import.meta.url));
export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

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

export async function fixtureRender(): Promise<AzureRender> {
  return renderAzure(await fixtureInput());
}
