export { assignmentsSchema } from './assignments.ts';
export type { Assignments } from './assignments.ts';
export {
  ACCESS_LEVELS,
  SANDBOX_WAIVABLE_FEATURES,
  TOOL_ARGUMENT_LOGGING,
  blueprintSchema,
} from './blueprint.ts';
export type {
  Blueprint,
  BlueprintService,
  BlueprintSpec,
  BlueprintWrite,
  HttpRule,
  LoggingSpec,
  ReviewGates,
  SandboxSpec,
} from './blueprint.ts';
export { API_VERSION, HTTP_METHODS, compileRedactPattern } from './common.ts';
export { platformSchema } from './platform.ts';
export type { Platform } from './platform.ts';
export { PROVIDERS, profileSchema } from './profile.ts';
export type { Profile } from './profile.ts';
export { defaultToolPrefix, serviceSchema } from './service.ts';
export type { McpServerSpec, Service } from './service.ts';
