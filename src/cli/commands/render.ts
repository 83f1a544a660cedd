import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { type DesiredState, releaseChannelOf, requireValidRepository } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import {
  azureWorkspacesOf,
  desiredStateFiles,
  parseAzureSettings,
  renderAzure,
  renderedFiles,
} from '../../providers/azure/index.ts';
import {
  desiredStateFilesOf,
  kubevirtWorkspacesOf,
  parseKubeVirtSettings,
  renderFiles,
  renderKubeVirt,
} from '../../providers/kubevirt/index.ts';
import { readReleaseAnchor } from '../../providers/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, type CommandContext } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';

// `paddock render TARGET --out DIR`: a provider's manifests for the desired state, as files to
// commit (rendered-manifests pattern) or inspect. Each target is one entry of RENDERERS; a new
// provider adds an entry and its help lines, nothing else.

interface RenderRequest {
  readonly configDir: string;
  /** Provider settings file (YAML), or undefined for the defaults. */
  readonly settingsFile: string | undefined;
  /** A directory of `CHANNEL.root.json` release roots to pin in each workspace, or undefined. */
  readonly releaseRoots: string | undefined;
}

/**
 * Each workspace's release anchor: the root of the channel its profile follows, from
 * `--release-roots DIR` (`DIR/CHANNEL.root.json`, as a release repository's anchors/ holds them).
 */
function anchorsFor<T extends { readonly id: string }>(
  state: DesiredState,
  workspaces: readonly T[],
  profileOf: (workspace: T) => string,
  releaseRoots: string | undefined,
): T[] {
  if (releaseRoots === undefined) return [...workspaces];
  return workspaces.map((workspace) => {
    const channel = releaseChannelOf(state, profileOf(workspace));
    const file = join(releaseRoots, `${channel}.root.json`);
    return { ...workspace, releases: readReleaseAnchor(channel, file, `workspace ${workspace.id}`) };
  });
}

interface Renderer {
  readonly summary: string;
  /** Files relative to the output directory, in write order. */
  render(request: RenderRequest): Promise<Map<string, string>>;
}

async function readSettings(
  file: string | undefined,
  code: 'PDK_KUBEVIRT_SETTINGS_INVALID' | 'PDK_AZURE_SETTINGS_INVALID' = 'PDK_KUBEVIRT_SETTINGS_INVALID',
): Promise<unknown> {
  if (file === undefined) return {};
  try {
    return parse(await readFile(file, 'utf8')) ?? {};
  } catch (error) {
    throw new PaddockError(code, `cannot read settings ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export const RENDERERS: Readonly<Record<string, Renderer>> = {
  kubevirt: {
    summary:
      'per-user Namespace, VirtualMachine, DataVolume, NetworkPolicy, EgressFirewall; AdminNetworkPolicy, ApplicationSet',
    async render(request) {
      const settings = parseKubeVirtSettings(await readSettings(request.settingsFile));
      const { state } = await requireValidRepository(request.configDir);
      return renderFiles(
        renderKubeVirt({
          workspaces: anchorsFor(
            state,
            kubevirtWorkspacesOf(state),
            (workspace) => workspace.profileName,
            request.releaseRoots,
          ),
          settings,
          desiredStateFiles: await desiredStateFilesOf(state),
        }),
      );
    },
  },
  azure: {
    summary: 'ARM templates: the hub (Firewall Premium, policy, Key Vault, private DNS) and one per user',
    async render(request) {
      const settings = parseAzureSettings(
        await readSettings(request.settingsFile, 'PDK_AZURE_SETTINGS_INVALID'),
      );
      const { state, blueprints } = await requireValidRepository(request.configDir);
      const render = renderAzure({
        settings,
        state,
        blueprints,
        workspaces: anchorsFor(
          state,
          azureWorkspacesOf(state),
          (workspace) => workspace.profile,
          request.releaseRoots,
        ),
        files: await desiredStateFiles(state),
      });
      return renderedFiles(settings, render);
    },
  },
};

const HELP = `Renders a provider's manifests for the desired state into --out DIR, replacing
what a previous render wrote there (DIR/users and DIR/platform). The output is
deterministic: render, commit, and let Argo CD apply it (docs/kubevirt.md), or deploy
the ARM templates (docs/azure.md).

Targets:
${Object.entries(RENDERERS)
  .map(([name, renderer]) => `  ${name.padEnd(10)} ${renderer.summary}`)
  .join('\n')}

Exit codes: 0 rendered, 1 the desired state or the render broke a rule (nothing is
written), 2 usage error.

Options:
${CONFIG_HELP}
  -o, --out DIR      output directory (required)
      --settings FILE  provider settings (YAML; docs/kubevirt.md and docs/azure.md list
                       the fields; required for azure)
      --release-roots DIR  pin signed policy releases: DIR/CHANNEL.root.json for the channel
                       each workspace's profile follows (a release repository's anchors/;
                       docs/releases.md). Without it the guests enforce the rendered desired
                       state's blueprints
`;

/** `paddock render TARGET --out DIR`. */
export const renderCommand: Command = {
  name: 'render',
  summary: "render a provider's manifests for the desired state into a directory",
  usage: 'TARGET --out DIR [--config DIR] [--settings FILE] [--release-roots DIR]',
  help: HELP,
  options: {
    ...CONFIG_OPTION,
    out: { type: 'string', short: 'o' },
    settings: { type: 'string' },
    'release-roots': { type: 'string' },
  },
  async run(ctx: CommandContext) {
    const [target, ...rest] = ctx.positionals;
    const renderer = target === undefined ? undefined : RENDERERS[target];
    if (!renderer || rest.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock render takes one TARGET (${Object.keys(RENDERERS).join(', ')}), got ${ctx.positionals.join(' ') || 'none'}`,
      );
    const out = ctx.values['out'];
    if (typeof out !== 'string') throw new PaddockError('PDK_CLI_USAGE', 'paddock render needs --out DIR');
    const settings = ctx.values['settings'];
    const releaseRoots = ctx.values['release-roots'];
    // Render fully before touching DIR: a refused render leaves the previous output in place.
    const files = await renderer.render({
      configDir: resolveConfigDir(ctx),
      settingsFile: typeof settings === 'string' ? resolve(ctx.cwd, settings) : undefined,
      releaseRoots: typeof releaseRoots === 'string' ? resolve(ctx.cwd, releaseRoots) : undefined,
    });
    const outDir = resolve(ctx.cwd, out);
    for (const owned of ['users', 'platform'])
      await rm(join(outDir, owned), { recursive: true, force: true });
    for (const [file, text] of files) {
      const path = join(outDir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
    }
    ctx.stdout.write(`rendered ${files.size} file${files.size === 1 ? '' : 's'} into ${out}\n`);
    return 0;
  },
};
