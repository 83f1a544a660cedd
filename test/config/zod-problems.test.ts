import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseYamlDocument } from '../../src/config/yaml-document.ts';
import { zodProblems } from '../../src/config/zod-problems.ts';

/** Problems of `text` against `schema`, as `line:column path: message`. */
function check(schema: z.ZodType, text: string): string[] {
  const { data, locator, problems } = parseYamlDocument('f.yaml', text);
  assert.deepEqual(problems, []);
  const result = schema.safeParse(data, { reportInput: true });
  assert.equal(result.success, false, 'expected the schema to fail');
  return zodProblems(result.error!.issues, schema, data, locator).map(
    (p) => `${p.line}:${p.column} ${p.path}: ${p.message}`,
  );
}

describe('zodProblems', () => {
  it('says what a field must be and what the file has', () => {
    const schema = z.strictObject({
      ports: z.array(z.int()),
      name: z.string(),
      on: z.boolean(),
      tags: z.array(z.string()),
    });
    assert.deepEqual(check(schema, 'ports: [443, "abc", 1.5]\nname: 12\non: "yes"\ntags: web\n'), [
      '1:14 ports[1]: must be a number, got string "abc"',
      '1:21 ports[2]: must be a whole number, got number 1.5',
      '2:7 name: must be a string, got number 12',
      '3:5 on: must be true or false, got string "yes"',
      '4:7 tags: must be a list, got string "web"',
    ]);
  });

  it('reports a missing field as required, at its parent', () => {
    const schema = z.strictObject({
      metadata: z.strictObject({ name: z.string(), owner: z.email('must be an e-mail address') }),
    });
    assert.deepEqual(check(schema, 'metadata:\n  name: x\n'), ['1:1 metadata.owner: is required']);
  });

  it('reports a mapping or list where a scalar belongs, and null', () => {
    const schema = z.strictObject({ a: z.string(), b: z.string(), c: z.strictObject({}) });
    assert.deepEqual(check(schema, 'a: {x: 1}\nb: [1]\nc: ~\n'), [
      '1:4 a: must be a string, got a mapping',
      '2:4 b: must be a string, got a list',
      '3:4 c: must be a mapping, got null',
    ]);
  });

  it('lists the allowed values and suggests the closest', () => {
    const schema = z.strictObject({
      access: z.enum(['read-only', 'read-write', 'full']),
      kind: z.literal('Blueprint'),
    });
    assert.deepEqual(check(schema, 'access: readonly\nkind: blueprint\n'), [
      '1:9 access: must be one of "read-only", "read-write", "full", got string "readonly"; did you mean "read-only"?',
      '2:7 kind: must be "Blueprint", got string "blueprint"; did you mean "Blueprint"?',
    ]);
  });

  it('names an unknown field at the key, with a suggestion or the allowed fields', () => {
    const schema = z.strictObject({
      spec: z.strictObject({ owner: z.string().optional(), goal: z.string().optional() }),
    });
    assert.deepEqual(check(schema, 'spec:\n  ownr: a\n  colour: red\n'), [
      '2:3 spec.ownr: unknown field "ownr"; did you mean "owner"?',
      '3:3 spec.colour: unknown field "colour"; allowed fields: owner, goal',
    ]);
  });

  it('explains sizes for lists, strings and numbers', () => {
    const schema = z.strictObject({
      hosts: z.array(z.string()).min(1),
      pair: z.array(z.string()).max(2),
      goal: z.string().min(1),
      code: z.string().max(3),
      port: z.int().min(1).max(65535),
    });
    assert.deepEqual(check(schema, 'hosts: []\npair: [a, b, c]\ngoal: ""\ncode: abcd\nport: 70000\n'), [
      '1:8 hosts: must not be empty',
      '2:7 pair: must have at most 2 items, got 3',
      '3:7 goal: must not be empty',
      '4:7 code: must be at most 3 characters long, got string "abcd"',
      '5:7 port: must be at most 65535, got number 70000',
    ]);
  });

  it('keeps messages written in the schema and adds the value', () => {
    const schema = z.strictObject({
      name: z.string().regex(/^[a-z]+$/, 'must be lowercase letters'),
      url: z.url(),
      when: z.string().refine((v) => v.endsWith('d'), 'must be a number of days such as 90d'),
    });
    assert.deepEqual(check(schema, 'name: ABC\nurl: not a url\nwhen: 90\n'), [
      '1:7 name: must be lowercase letters, got string "ABC"',
      '2:6 url: must be a URL, got string "not a url"',
      '3:7 when: must be a string, got number 90',
    ]);
  });

  it('names the discriminator values of a union', () => {
    const schema = z.strictObject({
      sink: z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('jsonl'), path: z.string() }),
        z.strictObject({ type: z.literal('otlp'), url: z.string() }),
      ]),
    });
    assert.deepEqual(check(schema, 'sink:\n  type: jsonll\n'), [
      '2:9 sink.type: must be one of "jsonl", "otlp", got string "jsonll"; did you mean "jsonl"?',
    ]);
  });

  it('reports infinity as such', () => {
    assert.deepEqual(check(z.strictObject({ n: z.number() }), 'n: .inf\n'), [
      '1:4 n: must be a number, got Infinity',
    ]);
  });
});

describe('zodProblems for absent fields with fixed values', () => {
  it('says a missing constant or choice is required and what to write', () => {
    const schema = z.strictObject({
      apiVersion: z.literal('paddock.dev/v1'),
      os: z.enum(['linux', 'windows']),
      x: z.string(),
    });
    assert.deepEqual(check(schema, 'x: a\n'), [
      '1:1 apiVersion: is required ("paddock.dev/v1")',
      '1:1 os: is required (one of "linux", "windows")',
    ]);
  });
});
