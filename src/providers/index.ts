export type { ProviderStatus, WorkspaceProvider, WorkspaceSpec } from './provider.ts';
export { readReleaseAnchor } from './release-anchor.ts';
export { LocalProvider, SUPERVISOR_ENTRY, workspaceDirs } from './local/index.ts';
export type { LocalProviderOptions, WorkspaceDirs } from './local/index.ts';
export { KubeVirtProvider, kubeApiFrom, parseKubeVirtSettings } from './kubevirt/index.ts';
export type { KubeApi, KubeVirtProviderOptions, KubeVirtSettings } from './kubevirt/index.ts';
export {
  AzureProvider,
  azureWorkspacesOf,
  desiredStateFiles,
  parseAzureSettings,
  renderAzure,
  renderedFiles,
} from './azure/index.ts';
export type { AzureProviderOptions, AzureRender, AzureSettings, AzureWorkspace } from './azure/index.ts';
