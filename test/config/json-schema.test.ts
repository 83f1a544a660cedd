import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { kindJsonSchema, renderJsonSchema } from '../../src/config/json-schema.ts';
import { findKind, KINDS } from '../../src/config/kinds.ts';
import { parseYamlDocument } from '../../src/config/yaml-document.ts';
import { ASSIGNMENTS, BLUEPRINT, PLATFORM, PROFILE, SERVICE } from './temp-repo.ts';

// ajv's CommonJS entry points also export themselves as `default`, which is what
// TypeScript sees on a default import under NodeNext.
function compile(schema: Record<string, unknown>) {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

const SAMPLES: Record<string, string> = {
  Platform: PLATFORM,
  Blueprint: BLUEPRINT,
  Profile: PROFILE,
  Service: SERVICE,
  Assignments: ASSIGNMENTS,
};

describe('kindJsonSchema', () => {
  for (const spec of KINDS) {
    it(`gives ${spec.kind} a strict draft 2020-12 schema that accepts a valid document`, () => {
      const schema = kindJsonSchema(spec);
      assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(schema['title'], `Paddock ${spec.kind}`);
      const validate = compile(schema);
      const sample = parseYamlDocument('sample.yaml', SAMPLES[spec.kind]!).data;
      assert.equal(validate(sample), true, JSON.stringify(validate.errors));
    });
  }

  it('rejects unknown fields and wrong types like the loader does', () => {
    const validate = compile(kindJsonSchema(findKind('blueprint')!));
    const sample = parseYamlDocument(
      'b.yaml',
      BLUEPRINT.replace('  owner:', '  ownr:').replace('version: 1.3.0', 'version: 1.3'),
    ).data;
    assert.equal(validate(sample), false);
    const found = (validate.errors ?? []).map((error) => `${error.instancePath} ${error.keyword}`).sort();
    assert.deepEqual(found, [
      '/metadata additionalProperties',
      '/metadata required',
      '/metadata/version type',
    ]);
  });

  it('treats fields with defaults as optional (input schema)', () => {
    const schema = kindJsonSchema(findKind('profile')!) as { properties: { spec: { required: string[] } } };
    assert.deepEqual(schema.properties.spec.required.sort(), ['provider', 'size']);
  });

  it('renders stable text with a final newline', () => {
    const text = renderJsonSchema(findKind('service')!);
    assert.equal(text, renderJsonSchema(findKind('service')!));
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), kindJsonSchema(findKind('service')!));
  });
});

/** Keywords that mean the same in draft-07 and 2020-12, so editors that implement only draft-07 check correctly. */
const PORTABLE_KEYWORDS = new Set([
  '$schema',
  '$comment',
  'title',
  'description',
  'type',
  'properties',
  'additionalProperties',
  'required',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'enum',
  'const',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'oneOf',
  'anyOf',
]);

function keywordsOf(schema: unknown, found: Set<string>): Set<string> {
  if (schema === null || typeof schema !== 'object') return found;
  for (const [key, value] of Object.entries(schema)) {
    found.add(key);
    if (key === 'properties')
      for (const property of Object.values(value as object)) keywordsOf(property, found);
    else if (key === 'items' || key === 'additionalProperties') keywordsOf(value, found);
    else if (key === 'oneOf' || key === 'anyOf')
      for (const option of value as unknown[]) keywordsOf(option, found);
  }
  return found;
}

describe('kindJsonSchema keywords', () => {
  it('uses only keywords draft-07 editors read the same way', () => {
    for (const spec of KINDS) {
      const extra = [...keywordsOf(kindJsonSchema(spec), new Set())].filter(
        (keyword) => !PORTABLE_KEYWORDS.has(keyword),
      );
      assert.deepEqual(extra, [], `${spec.kind} uses ${extra.join(', ')}`);
    }
  });
});
