import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';

// Validates rendered ARM resources against the official resource schemas in ../shared/schemas/azure
// (Azure/azure-resource-manager-schemas). They are draft-04 (`id`, not `$id`); Ajv 8 reads them once
// the root `id` is renamed. Each resource is checked against `<file>#/resourceDefinitions/<name>`:
// the whole-template root schema needs a file absent from the snapshot (see the schemas README).

export const SCHEMA_ROOT = resolve(import.meta.dirname, '../../../../shared/schemas/azure/schemas');

/** Files that are not resource providers (the template root and its parameter file). */
const SKIPPED = new Set([
  'deploymentTemplate.json',
  'deploymentParameters.json',
  'manuallyAddedResources.json',
]);

interface Definition {
  readonly ref: string;
  readonly types: readonly string[];
  readonly apiVersions: readonly string[];
}

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return schemaFiles(path);
    return entry.endsWith('.json') && !SKIPPED.has(entry) ? [path] : [];
  });
}

/**
 * ARM ignores nothing it does not know in most resource providers' PUT bodies, but a misspelt
 * field is silently dropped; like an API server's strict field validation, every object schema
 * that lists properties (and says nothing of others) gets additionalProperties: false, so a typo
 * fails the test.
 */
function closeObjects(node: unknown, branch = false): unknown {
  if (Array.isArray(node)) return node.map((item) => closeObjects(item, branch));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node))
    out[key] =
      key === 'properties' || key === 'definitions' || key === 'resourceDefinitions'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([name, child]) => [
              name,
              closeObjects(child),
            ]),
          )
        : closeObjects(value, key === 'oneOf' || key === 'anyOf' || key === 'allOf');
  // Polymorphic and combined schemas (a base with oneOf/allOf derived types, and those types) stay open.
  const combined = ['oneOf', 'anyOf', 'allOf'].some((key) => out[key] !== undefined);
  if (
    out['properties'] !== undefined &&
    out['additionalProperties'] === undefined &&
    out['type'] === 'object' &&
    !combined &&
    !branch
  )
    out['additionalProperties'] = false;
  return out;
}

/** Template-level fields every resource may carry (ARMResourceBase of the template schema). */
const TEMPLATE_FIELDS = {
  dependsOn: { type: 'array', items: { type: 'string' } },
  condition: {},
  comments: { type: 'string' },
  copy: {},
  scope: { type: 'string' },
};

function enumOf(schema: unknown): string[] {
  const value = (schema as { enum?: unknown } | undefined)?.enum;
  return Array.isArray(value) ? value.map(String) : [];
}

export class ArmSchemas {
  readonly #ajv = new Ajv.default({
    strict: false,
    allErrors: true,
    validateFormats: false,
    validateSchema: false,
  });
  readonly #definitions: Definition[] = [];
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor() {
    for (const file of schemaFiles(SCHEMA_ROOT)) {
      const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const closed = closeObjects(schema) as Record<string, unknown>;
      for (const definition of Object.values(
        (closed['resourceDefinitions'] ?? {}) as Record<string, Record<string, unknown>>,
      ))
        definition['properties'] = { ...TEMPLATE_FIELDS, ...(definition['properties'] as object) };
      const { id, $schema: _draft, ...rest } = closed;
      const uri = String(id).replace(/#$/, '');
      this.#ajv.addSchema({ $id: uri, ...rest });
      const definitions = (schema['resourceDefinitions'] ?? {}) as Record<
        string,
        { properties?: Record<string, unknown> }
      >;
      for (const [name, definition] of Object.entries(definitions)) {
        this.#definitions.push({
          ref: `${uri}#/resourceDefinitions/${name}`,
          types: enumOf(definition.properties?.['type']),
          apiVersions: enumOf(definition.properties?.['apiVersion']),
        });
      }
    }
  }

  /** The schema reference of a resource type at an API version, or undefined when the snapshot has none. */
  definitionOf(type: string, apiVersion: string): string | undefined {
    const lower = type.toLowerCase();
    return this.#definitions.find(
      (definition) =>
        definition.types.some((candidate) => candidate.toLowerCase() === lower) &&
        definition.apiVersions.includes(apiVersion),
    )?.ref;
  }

  /** Schema errors of one resource (empty when valid); throws when no definition exists. */
  validate(resource: { type: string; apiVersion: string }): string[] {
    const ref = this.definitionOf(resource.type, resource.apiVersion);
    if (!ref) throw new Error(`no schema for ${resource.type}@${resource.apiVersion}`);
    let validate = this.#compiled.get(ref);
    if (!validate) {
      validate = this.#ajv.getSchema(ref);
      if (!validate) throw new Error(`cannot compile ${ref}`);
      this.#compiled.set(ref, validate);
    }
    if (validate(resource)) return [];
    return (validate.errors ?? []).map(
      (error) => `${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`,
    );
  }
}
