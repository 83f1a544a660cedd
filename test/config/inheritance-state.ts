import { stringify } from 'yaml';
import { checkDocument } from '../../src/config/check-document.ts';
import { KINDS } from '../../src/config/kinds.ts';
import type { DesiredState, LoadedDocument } from '../../src/config/repository.ts';
import type { Blueprint, Service } from '../../src/config/schema/index.ts';

// Builds DesiredState in memory for the inheritance tests, through the loader's
// own per-file check (real YAML positions, schema defaults applied), without a
// directory on disk.

function parse<T>(file: string, text: string, kind: 'Blueprint' | 'Service'): LoadedDocument<T> {
  const spec = KINDS.find((candidate) => candidate.kind === kind)!;
  const checked = checkDocument<T>(file, text, spec);
  if (!checked.document) {
    const lines = checked.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
    throw new Error(`test fixture ${file} is invalid:\n${lines.join('\n')}`);
  }
  return checked.document;
}

/** A state from `blueprints/NAME.yaml` and `services/NAME.yaml` texts (other files are ignored). */
export function stateOf(files: Readonly<Record<string, string>>): DesiredState {
  const blueprints = new Map<string, LoadedDocument<Blueprint>>();
  const services = new Map<string, LoadedDocument<Service>>();
  for (const [file, text] of Object.entries(files)) {
    if (file.startsWith('blueprints/')) {
      const doc = parse<Blueprint>(file, text, 'Blueprint');
      blueprints.set(doc.value.metadata.name, doc);
    } else if (file.startsWith('services/')) {
      const doc = parse<Service>(file, text, 'Service');
      services.set(doc.value.metadata.name, doc);
    }
  }
  return {
    root: '/repo',
    platform: undefined,
    blueprints,
    profiles: new Map(),
    services,
    assignments: undefined,
    policies: new Map(),
  };
}

// Fixtures share objects; the loader refuses YAML aliases, so write each one out.
const NO_ALIASES = { aliasDuplicateObjects: false } as const;

/** The text of a blueprint file with the given name, parent and spec. */
export function blueprintYaml(name: string, spec: Record<string, unknown>, parent?: string): string {
  return stringify(
    {
      apiVersion: 'paddock.dev/v1',
      kind: 'Blueprint',
      metadata: {
        name,
        version: '1.0.0',
        owner: 'platform@example.com',
        incidentContact: 'secops@example.com',
        reviewCadence: '90d',
      },
      ...(parent === undefined ? {} : { extends: parent }),
      spec: { goal: `The ${name} blueprint.`, ...spec },
    },
    NO_ALIASES,
  );
}

/** The text of a shared service file. */
export function serviceYaml(name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'paddock.dev/v1', kind: 'Service', metadata: { name }, spec }, NO_ALIASES);
}
