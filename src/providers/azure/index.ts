export { API_VERSIONS, apiVersionOf } from './arm.ts';
export type { ArmResource, ArmTemplate } from './arm.ts';
export {
  checkCustomData,
  checkDiagnostics,
  checkFirewallRules,
  checkFirewallSku,
  checkHubTemplate,
  checkKeyVault,
  checkNoPublicIp,
  checkRoutes,
  checkSecurityGroups,
  checkVirtualMachines,
  checkWorkspaceTemplate,
} from './checks.ts';
export { CUSTOM_DATA_MAX_BASE64, linuxCloudInit, supervisorConfig, windowsBootstrap } from './custom-data.ts';
export type { BootstrapInput, DesiredStateFile } from './custom-data.ts';
export { firewallAllowlist, RULE_COLLECTIONS } from './firewall-rules.ts';
export type { FirewallAllowlist, FirewallHost } from './firewall-rules.ts';
export { renderHubTemplate } from './hub-template.ts';
export { hubNames, workspaceNames, workspaceSubnetPrefix } from './names.ts';
export { desiredStateFiles, renderAzure, renderedFiles } from './render.ts';
export type { AzureRender, AzureRenderInput, AzureWorkspace } from './render.ts';
export { azureSettingsSchema, parseAzureSettings } from './settings.ts';
export type { AzureSettings } from './settings.ts';
export { azureWorkspacesOf } from './workspaces.ts';
export { renderWorkspaceTemplate, vmSizeFor } from './workspace-template.ts';
export type { WorkspaceRenderInput } from './workspace-template.ts';
export { ArmClient } from './arm-client.ts';
export type { ArmClientOptions, PowerState, VmAction } from './arm-client.ts';
export { AzureProvider, adminCredential } from './azure-provider.ts';
export type { AzureProviderOptions } from './azure-provider.ts';
export { azureCredential } from './credential.ts';
