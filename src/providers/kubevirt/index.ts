export {
  ADMISSION_RULES,
  admissionViolations,
  assertAdmissible,
  EGRESS_FIREWALL_MAX_RULES,
  INLINE_USER_DATA_MAX_BYTES,
  SECRET_MAX_BYTES,
} from './admission.ts';
export type { AdmissionRule, AdmissionViolation } from './admission.ts';
export { GUEST, guestAnchorFile, IDENTITY_KEY, guestSupervisorConfig, renderUserData } from './cloud-init.ts';
export {
  PS1_SYSNATIVE,
  renderWindowsUserData,
  WINDOWS_GUEST,
  windowsGuestAnchorFile,
  windowsGuestSupervisorConfig,
} from './cloudbase-init.ts';
export { desiredStateFilesOf, kubevirtWorkspacesOf, renderedWorkspaceId } from './desired-workspaces.ts';
export { identitySecretName, namespaceOf, ownerKey, rootDataVolumeName } from './names.ts';
export {
  renderFiles,
  renderKubeVirt,
  renderNamespaceObjects,
  renderWorkspaceObjects,
  toYaml,
} from './render.ts';
export type { KubeVirtRender, KubeVirtRenderInput } from './render.ts';
export { identitySecret, networkPolicy } from './resources.ts';
export type { KubeObject, KubeVirtWorkspace } from './resources.ts';
export { channelUrlOf, kubevirtSettingsSchema, parseKubeVirtSettings } from './settings.ts';
export type { KubeVirtSettings } from './settings.ts';
export { FIELD_MANAGER, kubeApiFrom } from './kube-api.ts';
export type { KubeApi, KubeRef } from './kube-api.ts';
export { KubeVirtProvider } from './kubevirt-provider.ts';
export type { KubeVirtProviderOptions } from './kubevirt-provider.ts';
