import { loggingSpec } from '../schema/blueprint.ts';
import { pathGlobContains } from './glob-containment.ts';
import { HTTP_METHODS } from '../schema/index.ts';
import type { BlueprintService, BlueprintSpec, LoggingSpec, SandboxSpec } from '../schema/index.ts';

// What an omitted spec field means, in one place, so that the narrowing check
// compares a child with what its parent actually grants (DESIGN.md §3 and the
// field descriptions in schema/blueprint.ts), not with `undefined`.

export interface EffectiveCommands {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export interface EffectiveDataScope {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly deny: readonly string[];
}

/** Omitted tools or tools.commands: no command may run. */
export function commandsOf(spec: BlueprintSpec): EffectiveCommands {
  return spec.tools?.commands ?? { allow: [], deny: [] };
}

/** Omitted tools or tools.mcp: no MCP server. */
export function mcpOf(spec: BlueprintSpec): NonNullable<NonNullable<BlueprintSpec['tools']>['mcp']> {
  return spec.tools?.mcp ?? [];
}

/** Omitted services: no egress. */
export function servicesOf(spec: BlueprintSpec): readonly BlueprintService[] {
  return spec.services ?? [];
}

/** The first service of each name: a later duplicate is not counted as granting more. */
export function servicesByName(services: readonly BlueprintService[]): Map<string, BlueprintService> {
  const byName = new Map<string, BlueprintService>();
  for (const service of services) if (!byName.has(service.name)) byName.set(service.name, service);
  return byName;
}

/** Omitted dataScope: /workspace read-only. */
export function dataScopeOf(spec: BlueprintSpec): EffectiveDataScope {
  return spec.dataScope ?? { read: ['/workspace'], write: [], deny: [] };
}

/** Omitted logging: the schema defaults (tool arguments redacted, no extra patterns, 365d). */
export function loggingOf(spec: BlueprintSpec): LoggingSpec {
  return spec.logging ?? loggingSpec.parse({});
}

/** Omitted sandbox: no waiver, every layer required. */
export function sandboxOf(spec: BlueprintSpec): SandboxSpec {
  return spec.sandbox ?? { allowMissing: [] };
}

export type AccessLevel = NonNullable<BlueprintService['access']>;

const READ_ONLY_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS'];
const READ_WRITE_METHODS: readonly string[] = [...READ_ONLY_METHODS, 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Methods a service's `access` lets through. Without `access` the service is
 * L4-only: the gateway does not look at methods, so every method passes.
 */
export function methodsAllowedBy(access: AccessLevel | undefined): readonly string[] {
  switch (access) {
    case 'read-only':
      return READ_ONLY_METHODS;
    case 'read-write':
      return READ_WRITE_METHODS;
    default:
      return HTTP_METHODS;
  }
}

/**
 * Breadth of an access level: read-only < read-write < full < absent. Absent is
 * L4-only: every method passes and nothing is inspected, so no rule or audit of
 * methods and paths applies; dropping `access` therefore widens even `full`.
 */
export function accessRank(access: AccessLevel | undefined): number {
  switch (access) {
    case 'read-only':
      return 1;
    case 'read-write':
      return 2;
    case 'full':
      return 3;
    default:
      return 4;
  }
}

/**
 * Whether a service lets `method` on `path` through: the method is in its access
 * class and, when it has rules, some rule lists the method and a glob containing
 * the path (glob containment, so `path` may itself be a glob).
 */
export function serviceAllows(service: BlueprintService, method: string, path: string): boolean {
  if (!methodsAllowedBy(service.access).includes(method)) return false;
  if (service.rules === undefined) return true;
  return service.rules.some(
    (rule) =>
      (rule.methods as readonly string[]).includes(method) &&
      rule.paths.some((p) => pathGlobContains(p, path)),
  );
}

/** Quotes values for messages: `"a", "b"`. */
export function quoteAll(values: readonly (string | number)[]): string {
  return values.map((value) => (typeof value === 'number' ? String(value) : `"${value}"`)).join(', ');
}
