import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parseYamlDocument } from '../../../src/config/yaml-document.ts';
import { BLUEPRINT, PLATFORM, writeRepo } from '../../config/temp-repo.ts';
import { runCli } from './run-cli.ts';

const run = runCli;

function compile(schema: unknown) {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(schema as Record<string, unknown>);
}

describe('paddock schema', () => {
  it('writes one schema file per kind into --out, creating the directory', async () => {
    const cwd = writeRepo({});
    const result = await run(['schema', '--out', 'schemas/v1'], cwd);
    const dir = join(cwd, 'schemas/v1');
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const files = ['paddock', 'blueprint', 'profile', 'service', 'assignments'].map(
      (k) => `${k}.schema.json`,
    );
    assert.equal(result.stdout, files.map((file) => `wrote ${join(dir, file)}\n`).join(''));
    assert.deepEqual(readdirSync(dir).sort(), [...files].sort());
    const platform = compile(JSON.parse(readFileSync(join(dir, 'paddock.schema.json'), 'utf8')));
    assert.equal(platform(parseYamlDocument('p.yaml', PLATFORM).data), true, JSON.stringify(platform.errors));
  });

  it('prints one kind to stdout; ajv compiles it and it validates a sample document', async () => {
    const result = await run(['schema', '--kind', 'blueprint'], '/');
    assert.equal(result.code, 0);
    const validate = compile(JSON.parse(result.stdout));
    assert.equal(
      validate(parseYamlDocument('b.yaml', BLUEPRINT).data),
      true,
      JSON.stringify(validate.errors),
    );
    assert.equal(validate(parseYamlDocument('b.yaml', BLUEPRINT.replace('goal:', 'gaol:')).data), false);
  });

  it('writes only the --kind given with --out', async () => {
    const cwd = writeRepo({});
    assert.equal((await run(['schema', '-o', cwd, '-k', 'Service'], '/')).code, 0);
    assert.deepEqual(readdirSync(cwd), ['service.schema.json']);
  });

  it('exits 2 for an unknown kind, suggesting the closest', async () => {
    const result = await run(['schema', '--kind', 'blueprnt'], '/');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^error PDK_CLI_USAGE: unknown kind "blueprnt" \(did you mean "blueprint"\?\); kinds: platform, blueprint, profile, service, assignments\n/,
    );
  });

  it('exits 2 without --out or --kind', async () => {
    const result = await run(['schema'], '/');
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^error PDK_CLI_USAGE: paddock schema needs --out DIR \(all kinds\) or --kind KIND/,
    );
  });

  it('exits 1 with PDK_CONFIG_SCHEMA_WRITE when the files cannot be written', async () => {
    const cwd = writeRepo({});
    writeFileSync(join(cwd, 'taken'), 'a file where the directory should go');
    const result = await run(['schema', '--out', 'taken'], cwd);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`^error PDK_CONFIG_SCHEMA_WRITE: cannot write JSON Schema files to ${join(cwd, 'taken')}: `),
    );
  });

  it('has --help listing its options', async () => {
    const result = await run(['schema', '--help'], '/');
    assert.equal(result.code, 0);
    for (const option of ['--out DIR', '--kind KIND', '--help'])
      assert.ok(result.stdout.includes(option), option);
  });
});
