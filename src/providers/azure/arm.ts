// ARM template shapes and the API version each resource type is rendered at. The versions are
// the ones whose official schemas the tests validate against; change them together.

export const API_VERSIONS = {
  'Microsoft.Network': '2025-07-01',
  'Microsoft.Compute/virtualMachines': '2026-03-01',
  'Microsoft.Compute/virtualMachines/extensions': '2026-03-01',
  'Microsoft.Compute/disks': '2024-03-02',
  'Microsoft.KeyVault': '2026-02-01',
  'Microsoft.ManagedIdentity': '2024-11-30',
  'Microsoft.Network/privateDnsZones': '2024-06-01',
  'Microsoft.Insights/diagnosticSettings': '2021-05-01-preview',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
  'Microsoft.Resources/deployments': '2025-04-01',
} as const;

/** The API version a resource type is rendered at (most specific prefix wins). */
export function apiVersionOf(type: string): string {
  let best: string | undefined;
  for (const prefix of Object.keys(API_VERSIONS)) {
    if (
      (type === prefix || type.startsWith(`${prefix}/`)) &&
      (best === undefined || prefix.length > best.length)
    )
      best = prefix;
  }
  if (best === undefined) throw new Error(`no API version for ${type}`);
  return API_VERSIONS[best as keyof typeof API_VERSIONS];
}

export interface ArmResource {
  readonly type: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly location?: string;
  readonly scope?: string;
  readonly dependsOn?: readonly string[];
  readonly [field: string]: unknown;
}

export interface ArmParameter {
  readonly type: 'string' | 'securestring' | 'int' | 'bool' | 'object';
  readonly metadata?: { readonly description: string };
  readonly defaultValue?: unknown;
}

export interface ArmTemplate {
  readonly $schema: string;
  readonly contentVersion: string;
  readonly parameters: Readonly<Record<string, ArmParameter>>;
  readonly resources: readonly ArmResource[];
  readonly outputs?: Readonly<Record<string, { readonly type: string; readonly value: string }>>;
}

export const TEMPLATE_SCHEMA =
  'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

/** A resource of `type` named `name`, at its pinned API version. */
export function resource(
  type: string,
  name: string,
  fields: Omit<ArmResource, 'type' | 'apiVersion' | 'name'>,
): ArmResource {
  return { type, apiVersion: apiVersionOf(type), name, ...fields };
}

/** `[resourceId('TYPE', 'NAME', ...)]`: the id expression of a resource in the deployment's group. */
export function resourceIdExpr(type: string, ...names: string[]): string {
  return `[resourceId('${type}', ${names.map((name) => `'${name}'`).join(', ')})]`;
}

export function template(
  resources: readonly ArmResource[],
  parameters: Record<string, ArmParameter> = {},
): ArmTemplate {
  return { $schema: TEMPLATE_SCHEMA, contentVersion: '1.0.0.0', parameters, resources };
}
