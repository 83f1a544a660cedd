import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/index.ts';
import {
  CEDAR_SCHEMA,
  checkPolicyFiles,
  compilePolicyBundle,
  createDecisionPoint,
  type PolicyBundleInput,
} from '../../src/policy/index.ts';
import { checkSchema, validatePolicies } from '../../src/policy/cedar/wasm.ts';
import { EXAMPLE_BLUEPRINTS, exampleBundles } from './pdp-fixtures.ts';

// The compiler: stable ids and sources, text that always validates against the schema, values
// from the blueprint that cannot change a policy's structure, and extra policy files checked
// and located like every other desired-state file.

const NONE = { top: [], anyDepth: [] };

function input(
  blueprint: Partial<PolicyBundleInput['blueprint']>,
  extra: Partial<PolicyBundleInput> = {},
): PolicyBundleInput {
  return { blueprint: { name: 'test', version: '1.0.0', ...blueprint }, protectedPaths: NONE, ...extra };
}

describe('compilePolicyBundle', () => {
  it('the schema parses', () => {
    assert.deepEqual(checkSchema(CEDAR_SCHEMA), []);
  });

  it('gives every example blueprint policies that validate strictly, with stable ids and sources', async () => {
    for (const name of EXAMPLE_BLUEPRINTS) {
      const { bundle, input: given } = (await exampleBundles()).get(name)!;
      const texts = Object.fromEntries(bundle.policies.map((policy) => [policy.id, policy.text]));
      assert.deepEqual(validatePolicies(CEDAR_SCHEMA, texts), [], name);
      assert.equal(new Set(Object.keys(texts)).size, bundle.policies.length);
      for (const policy of bundle.policies)
        assert.ok(
          policy.source.field?.startsWith('spec.') || policy.source.file?.startsWith('policies/'),
          policy.id,
        );
      // Same input, same bundle: the id is a digest of what decides.
      assert.deepEqual(compilePolicyBundle(given), bundle);
      assert.match(bundle.id, new RegExp(`^${name}:[0-9a-f]{16}$`, 'u'));
    }
  });

  it('names policies after their blueprint field', () => {
    const bundle = compilePolicyBundle(
      input(
        {
          commands: { allow: ['git *', 'npm test'], deny: ['git push *'] },
          mcp: [{ server: 'github', allow: ['get_issue'] }],
          services: [
            {
              name: 'github',
              hosts: ['api.github.com'],
              access: 'read-only',
              rules: [{ methods: ['GET'], paths: ['/repos/**'] }],
            },
          ],
          dataScope: { read: ['/usr'], write: ['/workspace'], deny: ['/workspace/.env'] },
          writes: [
            { service: 'github', methods: ['POST'], paths: ['/x'], review: 'none' },
            { service: 'github', methods: ['POST'], paths: ['/y'], review: 'required' },
          ],
        },
        { protectedPaths: { top: ['.claude/'], anyDepth: ['.git/'] } },
      ),
    );
    assert.deepEqual(
      bundle.policies.map((policy) => [policy.id, policy.source.field]),
      [
        ['commands.allow[0]', 'spec.tools.commands.allow[0]'],
        ['commands.allow[1]', 'spec.tools.commands.allow[1]'],
        ['commands.deny[0]', 'spec.tools.commands.deny[0]'],
        ['mcp[github].allow', 'spec.tools.mcp[0].allow'],
        ['dataScope.read[0]', 'spec.dataScope.read[0]'],
        ['dataScope.write[0]', 'spec.dataScope.write[0]'],
        ['dataScope.deny[0]', 'spec.dataScope.deny[0]'],
        ['protected[.claude/]', 'spec.dataScope.write'],
        ['protected[**/.git/]', 'spec.dataScope.write'],
        ['services[github].hosts', 'spec.services[0].hosts'],
        ['services[github].rules[0]', 'spec.services[0].rules[0]'],
        ['writes[1].review', 'spec.writes[1]'],
      ],
    );
    assert.deepEqual(bundle.pathGlobs, ['/repos/**', '/y']);
    assert.equal(bundle.version, '1.0.0');
    assert.ok(Object.isFrozen(bundle) && Object.isFrozen(bundle.policies[0]));
  });

  it('defaults an omitted dataScope to /workspace read-only and compiles no command, tool or host', () => {
    const bundle = compilePolicyBundle(input({}));
    assert.deepEqual(
      bundle.policies.map((policy) => policy.id),
      ['dataScope.read[0]'],
    );
    const pdp = createDecisionPoint(bundle);
    assert.equal(pdp.decide({ action: 'read_file', path: '/workspace/a' }).decision, 'allow');
    assert.equal(pdp.decide({ action: 'write_file', path: '/workspace/a' }).decision, 'deny');
    assert.equal(pdp.decide({ action: 'exec', argv: ['ls'] }).reason, 'command_not_allowed');
    assert.equal(
      pdp.decide({ action: 'connect', host: 'example.com', port: 443 }).reason,
      'host_not_allowed',
    );
  });

  it('escapes blueprint values: quotes, backslashes, stars and newlines stay data', () => {
    const tricky = ['echo "a" \\ b', 'x" || true || "', 'tab\there', 'new\nline'];
    const bundle = compilePolicyBundle(
      input({ commands: { allow: tricky }, dataScope: { read: ['/data/*stars*'], write: [], deny: [] } }),
    );
    const pdp = createDecisionPoint(bundle);
    // Only the exact words match; the injected `|| true` did not become Cedar syntax.
    assert.equal(pdp.decide({ action: 'exec', argv: ['ls'] }).decision, 'deny');
    assert.equal(pdp.decide({ action: 'exec', argv: ['x"', '||', 'true', '||', '"'] }).decision, 'deny');
    assert.equal(pdp.decide({ action: 'read_file', path: '/data/*stars*/f' }).decision, 'allow');
    // A "*" in a scope path is a character, not a wildcard.
    assert.equal(pdp.decide({ action: 'read_file', path: '/data/many-stars-/f' }).decision, 'deny');
  });

  it('refuses duplicate services and invalid hosts with PDK_POLICY_INVALID', () => {
    const github = { name: 'github', hosts: ['api.github.com'] };
    assert.throws(
      () => compilePolicyBundle(input({ services: [github, github] })),
      (error) =>
        isPaddockError(error, 'PDK_POLICY_INVALID') &&
        /duplicate policy ids services\[github\]\.hosts/u.test(error.message),
    );
    assert.throws(
      () => compilePolicyBundle(input({ services: [{ name: 'bad', hosts: ['*.*.example.com'] }] })),
      (error) => isPaddockError(error, 'PDK_POLICY_INVALID') && /services\[bad\]\.hosts/u.test(error.message),
    );
  });

  it('refuses what would compile to a policy that never matches or into the text', () => {
    const cases: [Partial<PolicyBundleInput['blueprint']>, RegExp][] = [
      [
        { dataScope: { deny: ['workspace/.env'] } },
        /^dataScope\.deny\[0\]: "workspace\/\.env" must be an absolute path/u,
      ],
      [{ dataScope: { read: ['/a/../b'] } }, /^dataScope\.read\[0\]/u],
      [{ commands: { deny: ['   '] } }, /^tools\.commands\.deny\[0\]: the pattern is empty$/u],
      [
        { services: [{ name: 's', hosts: ['a.example.com'], ports: ['443] || true' as unknown as number] }] },
        /^services\[s\]\.ports/u,
      ],
      [
        {
          services: [
            { name: 's', hosts: ['a.example.com'], rules: [{ methods: ['GET'], paths: ['repos/**'] }] },
          ],
        },
        /^services\[s\]\.rules\[0\]\.paths/u,
      ],
      [
        {
          services: [{ name: 's', hosts: ['a.example.com'] }],
          writes: [{ service: 's', methods: ['POST'], paths: ['x'], review: 'required' }],
        },
        /^writes\[0\]\.paths/u,
      ],
    ];
    for (const [blueprint, message] of cases) {
      assert.throws(
        () => compilePolicyBundle(input(blueprint)),
        (error) => isPaddockError(error, 'PDK_POLICY_INVALID') && message.test(error.message),
        JSON.stringify(blueprint),
      );
    }
  });

  it('merges extra policies in file order, named by @id or position, with their file and line', () => {
    const many = Array.from(
      { length: 12 },
      (_, index) =>
        `forbid (principal, action == Action::"exec", resource) when { context.program == "p${index}" };`,
    );
    const bundle = compilePolicyBundle(
      input(
        {},
        {
          extraPolicies: [
            {
              file: 'policies/b.cedar',
              text: `// header\n\n@id("named")\nforbid (principal, action, resource) when { false };\n`,
            },
            { file: 'policies/a.cedar', text: many.join('\n') },
          ],
        },
      ),
    );
    const extras = bundle.policies.filter((policy) => policy.id.startsWith('extra:'));
    assert.deepEqual(
      extras.map((policy) => [policy.id, policy.source.line]),
      [
        ...many.map((_, index) => [`extra:policies/a.cedar#${index}`, index + 1]),
        ['extra:policies/b.cedar#named', 3],
      ],
    );
    assert.match(extras[10]!.text, /"p10"/u);
  });
});

describe('checkPolicyFiles', () => {
  it('accepts the example policies', async () => {
    const { bundle } = (await exampleBundles()).get('coding-base')!;
    assert.ok(
      bundle.policies.some((policy) => policy.id === 'extra:policies/no-force-push.cedar#no-force-push'),
    );
  });

  it('locates syntax errors, schema errors, bad annotations and templates', () => {
    const problems = checkPolicyFiles([
      {
        file: 'policies/syntax.cedar',
        text: '\npermit (principal, action, resource) when { context.x ++ };\n',
      },
      {
        file: 'policies/schema.cedar',
        text: 'permit (principal, action == Action::"exec", resource)\nwhen { context.nope == 1 };\n\n@review("maybe")\n@colour("red")\n@reason("Bad Reason")\npermit (principal, action, resource);\n@review("required") forbid (principal, action, resource);\n',
      },
      { file: 'policies/template.cedar', text: 'permit (principal == ?principal, action, resource);' },
    ]);
    assert.deepEqual(
      problems.map(({ file, line, column, code }) => [file, line, column, code]),
      [
        ['policies/schema.cedar', 2, 8, 'PDK_POLICY_INVALID'],
        ['policies/schema.cedar', 4, 1, 'PDK_POLICY_INVALID'],
        ['policies/schema.cedar', 4, 1, 'PDK_POLICY_INVALID'],
        ['policies/schema.cedar', 4, 1, 'PDK_POLICY_INVALID'],
        ['policies/schema.cedar', 8, 1, 'PDK_POLICY_INVALID'],
        ['policies/syntax.cedar', 2, 56, 'PDK_POLICY_PARSE'],
        ['policies/template.cedar', 1, 1, 'PDK_POLICY_PARSE'],
      ],
    );
    assert.match(problems[0]!.message, /attribute `nope` in context for Action::"exec" not found/u);
    assert.deepEqual(
      problems
        .slice(1, 4)
        .map((problem) => problem.message)
        .sort(),
      [
        '@reason("Bad Reason") must be a code of lower-case letters, digits and "_"',
        '@review("maybe") must be "required" or "none"',
        'unknown annotation @colour: Paddock reads @id, @reason and @review',
      ],
    );
  });

  it('makes a bundle with a broken extra policy fail with the located problem', () => {
    assert.throws(
      () =>
        compilePolicyBundle(
          input(
            {},
            {
              extraPolicies: [
                {
                  file: 'policies/x.cedar',
                  text: 'forbid (principal, action, resource) when { context.path == 1 };',
                },
              ],
            },
          ),
        ),
      (error) =>
        isPaddockError(error, 'PDK_POLICY_INVALID') &&
        error.message.startsWith('policies/x.cedar:1:') &&
        Array.isArray((error.details as { problems: unknown[] }).problems),
    );
  });
});
