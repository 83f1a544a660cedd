import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredState, ResolvedBlueprint } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { ReleaseAnchor } from '../release-anchor.ts';
import type { ArmTemplate } from './arm.ts';
import { checkHubTemplate, checkWorkspaceTemplate } from './checks.ts';
import type { DesiredStateFile } from './custom-data.ts';
import { firewallAllowlist } from './firewall-rules.ts';
import { renderHubTemplate } from './hub-template.ts';
import { workspaceNames, workspaceSlots } from './names.ts';
import type { AzureSettings } from './settings.ts';
import { renderWorkspaceTemplate } from './workspace-template.ts';

// The Azure renderer: the hub template plus one template per workspace, every rule of
// checks.ts applied before anything is returned. Pure and deterministic (same input, same
// bytes), so `paddock render azure` output can be committed and diffed, and the reconciler
// deploys exactly what was reviewed.

export interface AzureWorkspace {
  readonly id: string;
  readonly owner: string;
  readonly profile: string;
  readonly blueprint: string;
  /** The /28 of the spoke range the workspace holds for its lifetime. */
  readonly slot: number;
  /** The signed release channel its supervisor follows, with the channel's root (docs/releases.md). */
  readonly releases?: ReleaseAnchor;
}

export interface AzureRenderInput {
  readonly settings: AzureSettings;
  readonly state: DesiredState;
  /** Effective blueprints (validateRepository); the firewall allows every one's services. */
  readonly blueprints: ReadonlyMap<string, ResolvedBlueprint>;
  readonly workspaces: readonly AzureWorkspace[];
  /** The desired-state files handed to every VM (desiredStateFiles). */
  readonly files: readonly DesiredStateFile[];
}

export interface AzureRender {
  readonly hub: ArmTemplate;
  /** By workspace id. */
  readonly workspaces: ReadonlyMap<string, ArmTemplate>;
}

/** The desired-state files of a repository, as the VM's supervisor needs them, sorted. */
export async function desiredStateFiles(state: DesiredState): Promise<DesiredStateFile[]> {
  const paths = new Set<string>();
  if (state.platform) paths.add(state.platform.file);
  if (state.assignments) paths.add(state.assignments.file);
  for (const map of [state.blueprints, state.profiles, state.services])
    for (const document of map.values()) paths.add(document.file);
  for (const file of state.policies.keys()) paths.add(file);
  const sorted = [...paths].sort();
  return Promise.all(
    sorted.map(async (path) => ({ path, content: await readFile(join(state.root, path), 'utf8') })),
  );
}

/** Renders and checks the hub and each workspace. Throws the coded error of the first broken rule. */
export function renderAzure(input: AzureRenderInput): AzureRender {
  const { settings, state } = input;
  const blueprints = [...input.blueprints.values()].sort((a, b) => a.name.localeCompare(b.name));
  const allowlist = firewallAllowlist(blueprints);
  const hub = renderHubTemplate(settings, blueprints);
  checkHubTemplate(hub, settings, allowlist);

  const slots = new Map<number, string>();
  const workspaces = new Map<string, ArmTemplate>();
  for (const workspace of input.workspaces) {
    const profile = state.profiles.get(workspace.profile)?.value;
    if (profile?.spec.provider !== 'azure')
      throw new PaddockError(
        'PDK_AZURE_SETTINGS_INVALID',
        `workspace ${workspace.id}: profile ${workspace.profile} is not an azure profile of this repository`,
      );
    if (!input.blueprints.has(workspace.blueprint))
      throw new PaddockError(
        'PDK_AZURE_SETTINGS_INVALID',
        `workspace ${workspace.id}: no valid blueprint ${workspace.blueprint}`,
      );
    const holder = slots.get(workspace.slot);
    if (holder !== undefined || workspace.slot >= workspaceSlots(settings) || workspace.slot < 0)
      throw new PaddockError(
        'PDK_AZURE_SETTINGS_INVALID',
        `workspace ${workspace.id}: subnet slot ${workspace.slot} is ${holder ? `already held by ${holder}` : `outside the ${workspaceSlots(settings)} slots of workspaces.addressSpace`}`,
      );
    slots.set(workspace.slot, workspace.id);
    const armTemplate = renderWorkspaceTemplate(settings, {
      id: workspace.id,
      owner: workspace.owner,
      profileName: workspace.profile,
      profile,
      blueprint: workspace.blueprint,
      slot: workspace.slot,
      files: input.files,
      ...(workspace.releases ? { releases: workspace.releases } : {}),
    });
    checkWorkspaceTemplate(armTemplate, settings);
    workspaces.set(workspace.id, armTemplate);
  }
  return { hub, workspaces };
}

/**
 * The files `paddock render azure --out DIR` writes, name → content (stable JSON): platform/hub.json,
 * users/<stem>.json per workspace and users/index.json (workspace id → deployment and file).
 */
export function renderedFiles(settings: AzureSettings, render: AzureRender): Map<string, string> {
  const files = new Map<string, string>();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  files.set('platform/hub.json', json(render.hub));
  const index: { id: string; deployment: string; file: string }[] = [];
  for (const [id, armTemplate] of [...render.workspaces].sort(([a], [b]) => a.localeCompare(b))) {
    const names = workspaceNames(settings, id);
    const file = `users/${names.stem}.json`;
    files.set(file, json(armTemplate));
    index.push({ id, deployment: names.deployment, file });
  }
  files.set('users/index.json', json(index));
  return files;
}
