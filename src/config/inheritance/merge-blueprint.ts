import type { DesiredState, LoadedDocument } from '../repository.ts';
import type { Blueprint, BlueprintSpec } from '../schema/index.ts';
import { expandServices } from './expand-services.ts';
import type { CodedProblem, Origins, ValueOrigin } from './resolved-blueprint.ts';
import { copyOrigins, recordOrigins } from './resolved-blueprint.ts';

// How a child's spec combines with its resolved parent's: a field the child sets
// replaces the parent's whole field (lists are not concatenated, objects are not
// merged key by key), a field it omits is inherited, and `goal` is always the
// child's. tools.commands and tools.mcp are separate fields for this purpose. `sandbox`
// (the weaker-mode waiver) is inherited like the rest: the parent is the ceiling, and a
// child that adds a waiver widens it (narrow-sandbox.ts).

/** Spec fields replaced or inherited whole, in schema order (tools is handled per sub-field). */
const WHOLE_FIELDS = ['dataScope', 'writes', 'reviewGates', 'logging', 'sandbox'] as const;
const TOOL_FIELDS = ['commands', 'mcp'] as const;

export interface MergedBlueprint {
  readonly blueprint: Blueprint;
  /** Where each value of `blueprint` was written, by effective field path. */
  readonly origins: Origins;
}

/**
 * The effective blueprint of `child` given its resolved parent (undefined for a
 * blueprint without `extends`), with the source file of every value. Problems
 * (a name-only service with no shared definition) are appended to `problems`.
 */
export function mergeBlueprint(
  state: DesiredState,
  child: LoadedDocument<Blueprint>,
  parent: { readonly blueprint: Blueprint; readonly origins: ReadonlyMap<string, ValueOrigin> } | undefined,
  problems: CodedProblem[],
): MergedBlueprint {
  const origins: Origins = new Map();
  const own = child.value;
  const inherited: Partial<BlueprintSpec> = parent?.blueprint.spec ?? {};
  const take = <K extends keyof BlueprintSpec>(field: K): BlueprintSpec[K] | undefined => {
    if (own.spec[field] !== undefined) {
      const value = structuredClone(own.spec[field]);
      recordOrigins(origins, value, ['spec', field], { doc: child, path: ['spec', field] });
      return value;
    }
    if (parent !== undefined && inherited[field] !== undefined) {
      copyOrigins(parent.origins, origins, ['spec', field]);
      return structuredClone(inherited[field]);
    }
    return undefined;
  };

  const spec: BlueprintSpec = { goal: own.spec.goal };
  recordOrigins(origins, {}, ['spec'], { doc: child, path: ['spec'] });
  recordOrigins(origins, spec.goal, ['spec', 'goal'], { doc: child, path: ['spec', 'goal'] });

  const tools: NonNullable<BlueprintSpec['tools']> = {};
  for (const field of TOOL_FIELDS) {
    if (own.spec.tools?.[field] !== undefined) {
      const value = structuredClone(own.spec.tools[field]);
      recordOrigins(origins, value, ['spec', 'tools', field], { doc: child, path: ['spec', 'tools', field] });
      (tools as Record<string, unknown>)[field] = value;
    } else if (parent !== undefined && inherited.tools?.[field] !== undefined) {
      copyOrigins(parent.origins, origins, ['spec', 'tools', field]);
      (tools as Record<string, unknown>)[field] = structuredClone(inherited.tools[field]);
    }
  }
  if (own.spec.tools !== undefined || Object.keys(tools).length > 0) {
    spec.tools = tools;
    const toolsOrigin = own.spec.tools !== undefined ? undefined : parent?.origins.get('spec.tools');
    if (toolsOrigin !== undefined) origins.set('spec.tools', toolsOrigin);
    else recordOrigins(origins, {}, ['spec', 'tools'], { doc: child, path: ['spec', 'tools'] });
  }

  if (own.spec.services !== undefined) {
    recordOrigins(origins, [], ['spec', 'services'], { doc: child, path: ['spec', 'services'] });
    spec.services = expandServices(state, child, origins, problems);
  } else {
    const services = take('services');
    if (services !== undefined) spec.services = services;
  }

  for (const field of WHOLE_FIELDS) {
    const value = take(field);
    if (value !== undefined) (spec as Record<string, unknown>)[field] = value;
  }

  const blueprint: Blueprint = {
    apiVersion: own.apiVersion,
    kind: own.kind,
    metadata: structuredClone(own.metadata),
    ...(own.extends === undefined ? {} : { extends: own.extends }),
    spec,
  };
  for (const key of ['apiVersion', 'kind', 'metadata', 'extends'] as const) {
    if (blueprint[key] !== undefined)
      recordOrigins(origins, blueprint[key], [key], { doc: child, path: [key] });
  }
  return { blueprint, origins };
}
