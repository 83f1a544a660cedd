import type { DesiredState, LoadedDocument } from '../repository.ts';
import { formatFieldPath } from '../repository.ts';
import type { Blueprint, BlueprintService } from '../schema/index.ts';
import type { CodedProblem, Origins, OriginSource } from './resolved-blueprint.ts';
import { recordOrigins } from './resolved-blueprint.ts';

// A blueprint may name a shared service (services/NAME.yaml) instead of
// spelling out its hosts. The effective blueprint always has them spelled out,
// so the narrowing check and the policy compiler see one form.

/** Ports a service gets when neither the blueprint nor the shared service lists any. */
export const DEFAULT_SERVICE_PORTS: readonly number[] = [443];

/** Fields a name-only entry takes from the shared service unless it sets them itself. */
const SHARED_FIELDS = ['ports', 'access', 'rules', 'credential', 'cidrs'] as const;

/**
 * Returns the blueprint's `spec.services` with every name-only entry (no `hosts`)
 * filled in from the shared service of that name, recording where each value came from.
 * An entry naming no shared service is kept as it is (it grants no host) and reported.
 */
export function expandServices(
  state: DesiredState,
  doc: LoadedDocument<Blueprint>,
  origins: Origins,
  problems: CodedProblem[],
): BlueprintService[] {
  const services = doc.value.spec.services ?? [];
  return services.map((entry, index) => {
    const path = ['spec', 'services', index] as const;
    if (entry.hosts !== undefined) {
      // Self-contained entry: only the port default applies, so the effective form always lists ports.
      const copy = structuredClone(entry);
      recordOrigins(origins, copy, path, { doc, path });
      if (copy.ports === undefined) {
        copy.ports = [...DEFAULT_SERVICE_PORTS];
        recordOrigins(origins, copy.ports, [...path, 'ports'], { defaultIn: doc, entry: path });
      }
      return withFieldOrder(copy);
    }
    const shared = state.services.get(entry.name);
    if (!shared) {
      problems.push({
        code: 'PDK_CONFIG_INVALID',
        problem: {
          ...doc.locate([...path, 'name']),
          path: formatFieldPath([...path, 'name']),
          message: `service "${entry.name}" has no hosts and services/ defines no service of that name: add hosts, or add services/${entry.name}.yaml`,
        },
      });
      const copy = structuredClone(entry);
      recordOrigins(origins, copy, path, { doc, path });
      return copy;
    }
    const spec = shared.value.spec;
    if (spec.hosts === undefined) {
      // An MCP-only service (a stdio server without network) grants the agent no host.
      problems.push({
        code: 'PDK_CONFIG_INVALID',
        problem: {
          ...doc.locate([...path, 'name']),
          path: formatFieldPath([...path, 'name']),
          message: `service "${entry.name}" has no hosts (services/${entry.name}.yaml defines only an MCP server): name it in spec.tools.mcp, not in spec.services`,
        },
      });
      const copy = structuredClone(entry);
      recordOrigins(origins, copy, path, { doc, path });
      return copy;
    }
    const expanded: BlueprintService = { name: entry.name, hosts: structuredClone(spec.hosts) };
    recordOrigins(origins, { name: entry.name }, path, { doc, path });
    recordOrigins(origins, expanded.hosts, [...path, 'hosts'], { doc: shared, path: ['spec', 'hosts'] });
    for (const field of SHARED_FIELDS) {
      const own = entry[field];
      const value = own ?? spec[field] ?? (field === 'ports' ? [...DEFAULT_SERVICE_PORTS] : undefined);
      if (value === undefined) continue;
      const copy = structuredClone(value);
      (expanded as Record<string, unknown>)[field] = copy;
      const source: OriginSource =
        own !== undefined
          ? { doc, path: [...path, field] }
          : spec[field] !== undefined
            ? { doc: shared, path: ['spec', field] }
            : { defaultIn: doc, entry: path };
      recordOrigins(origins, copy, [...path, field], source);
    }
    return withFieldOrder(expanded);
  });
}

const FIELD_ORDER = ['name', 'hosts', ...SHARED_FIELDS] as const;

/** Rebuilds a service with its keys in schema order, so explain prints them as users write them. */
function withFieldOrder(service: BlueprintService): BlueprintService {
  const ordered: Record<string, unknown> = {};
  for (const field of FIELD_ORDER) if (service[field] !== undefined) ordered[field] = service[field];
  return ordered as BlueprintService;
}
