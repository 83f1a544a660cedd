import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveBlueprint, resolveBlueprints } from '../../src/config/inheritance/resolve-blueprints.ts';
import { isPaddockError } from '../../src/core/errors.ts';
import { blueprintYaml, serviceYaml, stateOf } from './inheritance-state.ts';

// Chains, cycles, unknown parents, service expansion and provenance.

const ROOT_SPEC = {
  tools: {
    commands: { allow: ['git *', 'npm *'], deny: ['git push *'] },
    mcp: [{ server: 'github', allow: ['get_pull_request'] }],
  },
  services: [
    { name: 'github', access: 'read-write' },
    { name: 'registry', hosts: ['npm.mirror.example.com'] },
  ],
  dataScope: { read: ['/workspace', '/usr'], write: ['/workspace'], deny: ['/workspace/.env'] },
  logging: { toolArguments: 'redacted', redact: ['(?i)password'], retention: '365d' },
};
const GITHUB_SERVICE = serviceYaml('github', {
  hosts: ['api.github.com', 'github.com'],
  credential: 'github-pat',
});

/** root -> mid -> leaf: mid narrows services, leaf narrows commands and data scope. */
function chainOfThree(leafSpec: Record<string, unknown> = {}, rootSpec: Record<string, unknown> = ROOT_SPEC) {
  return stateOf({
    'services/github.yaml': GITHUB_SERVICE,
    'blueprints/root.yaml': blueprintYaml('root', rootSpec),
    'blueprints/mid.yaml': blueprintYaml(
      'mid',
      { services: [{ name: 'github', access: 'read-only' }] },
      'root',
    ),
    'blueprints/leaf.yaml': blueprintYaml(
      'leaf',
      { tools: { commands: { allow: ['git status'], deny: ['git push *'] } }, ...leafSpec },
      'mid',
    ),
  });
}

function thrown(fn: () => unknown): { code: string; message: string; problems: unknown[] } {
  try {
    fn();
  } catch (error) {
    assert.ok(isPaddockError(error), String(error));
    return {
      code: error.code,
      message: error.message,
      problems: (error.details as { problems: unknown[] }).problems,
    };
  }
  assert.fail('expected a PaddockError');
}

describe('resolveBlueprints: chains', () => {
  it('resolves a chain of three, each field from the nearest blueprint that sets it', () => {
    const { resolved, problems } = resolveBlueprints(chainOfThree());
    assert.deepEqual(problems, []);
    const leaf = resolved.get('leaf')!;
    assert.deepEqual(leaf.chain, ['leaf', 'mid', 'root']);
    assert.equal(leaf.blueprint.spec.goal, 'The leaf blueprint.');
    assert.equal(leaf.blueprint.metadata.name, 'leaf');
    assert.equal(leaf.blueprint.extends, 'mid');
    assert.deepEqual(leaf.blueprint.spec.tools, {
      commands: { allow: ['git status'], deny: ['git push *'] },
      mcp: [{ server: 'github', allow: ['get_pull_request'] }],
    });
    assert.deepEqual(leaf.blueprint.spec.services, [
      {
        name: 'github',
        hosts: ['api.github.com', 'github.com'],
        ports: [443],
        access: 'read-only',
        credential: 'github-pat',
      },
    ]);
    assert.deepEqual(leaf.blueprint.spec.dataScope, ROOT_SPEC.dataScope);
    assert.ok(Object.isFrozen(leaf.blueprint.spec.services![0]!.hosts));
  });

  it('inherits the weaker-mode waiver (spec.sandbox) from the nearest blueprint that sets it', () => {
    const waived = chainOfThree({}, { ...ROOT_SPEC, sandbox: { allowMissing: ['landlock'] } });
    const leaf = resolveBlueprint(waived, 'leaf');
    assert.deepEqual(leaf.blueprint.spec.sandbox, { allowMissing: ['landlock'] });
    assert.equal(leaf.sources.get('spec.sandbox.allowMissing[0]'), 'blueprints/root.yaml');
    // The leaf may drop it, and the root's own waiver stays the root's.
    const dropped = resolveBlueprint(
      chainOfThree({ sandbox: { allowMissing: [] } }, waived.blueprints.get('root')!.value.spec),
      'leaf',
    );
    assert.deepEqual(dropped.blueprint.spec.sandbox, { allowMissing: [] });
    assert.equal(resolveBlueprint(chainOfThree(), 'leaf').blueprint.spec.sandbox, undefined);
  });

  it('checks a child against its resolved parent, naming that parent', () => {
    // registry is in root but mid dropped it: the leaf cannot bring it back.
    const { resolved, problems } = resolveBlueprints(
      chainOfThree({ services: [{ name: 'registry', hosts: ['npm.mirror.example.com'] }] }),
    );
    assert.deepEqual(
      problems.map((p) => [p.file, p.path, p.message]),
      [
        [
          'blueprints/leaf.yaml',
          'spec.services[0]',
          'spec.services[registry] widens parent "mid": adds service "registry"',
        ],
      ],
    );
    assert.deepEqual([...resolved.keys()], ['mid', 'root']);
    const error = thrown(() =>
      resolveBlueprint(chainOfThree({ services: [{ name: 'registry', hosts: ['x.example.com'] }] }), 'leaf'),
    );
    assert.equal(error.code, 'PDK_BLUEPRINT_WIDENS');
    assert.equal(
      error.message,
      'blueprint "leaf" cannot be resolved: spec.services[registry] widens parent "mid": adds service "registry"',
    );
  });

  it('leaves every descendant of a widening blueprint unresolved, reporting the widening once', () => {
    const state = stateOf({
      'blueprints/root.yaml': blueprintYaml('root', ROOT_SPEC),
      'blueprints/mid.yaml': blueprintYaml(
        'mid',
        { dataScope: { read: ['/'], write: [], deny: ['/workspace/.env'] } },
        'root',
      ),
      'blueprints/leaf.yaml': blueprintYaml('leaf', {}, 'mid'),
      'services/github.yaml': GITHUB_SERVICE,
    });
    const { resolved, problems } = resolveBlueprints(state);
    assert.deepEqual([...resolved.keys()], ['root']);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['spec.dataScope.read widens parent "root": adds "/"'],
    );
    const error = thrown(() => resolveBlueprint(state, 'leaf'));
    assert.equal(error.code, 'PDK_BLUEPRINT_WIDENS');
    assert.equal(error.problems.length, 1);
  });
});

describe('resolveBlueprints: cycles and unknown parents', () => {
  const cycle = (links: Record<string, string>) =>
    stateOf(
      Object.fromEntries(
        Object.entries(links).map(([name, parent]) => [
          `blueprints/${name}.yaml`,
          blueprintYaml(name, {}, parent),
        ]),
      ),
    );

  it('reports a cycle of two once, at the first member by name', () => {
    const state = cycle({ b: 'a', a: 'b' });
    const { resolved, problems } = resolveBlueprints(state);
    assert.equal(resolved.size, 0);
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.path, p.message]),
      [['blueprints/a.yaml', 9, 'extends', 'inheritance cycle: a -> b -> a']],
    );
    for (const name of ['a', 'b']) {
      const error = thrown(() => resolveBlueprint(state, name));
      assert.equal(error.code, 'PDK_BLUEPRINT_CYCLE');
      assert.equal(error.message, `blueprint "${name}" cannot be resolved: inheritance cycle: a -> b -> a`);
    }
  });

  it('reports a cycle of three in chain order, whichever member the walk starts from', () => {
    const state = cycle({ c: 'a', a: 'b', b: 'c', d: 'c' });
    const { resolved, problems } = resolveBlueprints(state);
    assert.equal(resolved.size, 0);
    assert.deepEqual(
      problems.map((p) => [p.file, p.message]),
      [['blueprints/a.yaml', 'inheritance cycle: a -> b -> c -> a']],
    );
    assert.equal(thrown(() => resolveBlueprint(state, 'd')).code, 'PDK_BLUEPRINT_CYCLE');
    assert.equal(
      thrown(() => resolveBlueprint(state, 'c')).message,
      'blueprint "c" cannot be resolved: inheritance cycle: a -> b -> c -> a',
    );
  });

  it('reports a blueprint that extends itself', () => {
    const { problems } = resolveBlueprints(cycle({ a: 'a' }));
    assert.deepEqual(
      problems.map((p) => p.message),
      ['inheritance cycle: a -> a'],
    );
  });

  it('reports an unknown parent and leaves its children unresolved', () => {
    const state = stateOf({
      'blueprints/child.yaml': blueprintYaml('child', {}, 'missing'),
      'blueprints/grandchild.yaml': blueprintYaml('grandchild', {}, 'child'),
    });
    const { resolved, problems } = resolveBlueprints(state);
    assert.equal(resolved.size, 0);
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.path, p.message]),
      [
        [
          'blueprints/child.yaml',
          9,
          'extends',
          'extends unknown blueprint "missing": no file in blueprints/ has metadata.name "missing"',
        ],
      ],
    );
    const error = thrown(() => resolveBlueprint(state, 'grandchild'));
    assert.equal(error.code, 'PDK_BLUEPRINT_NOT_FOUND');
  });

  it('throws PDK_BLUEPRINT_NOT_FOUND for an unknown name, listing the known ones', () => {
    assert.throws(() => resolveBlueprint(chainOfThree(), 'nope'), {
      code: 'PDK_BLUEPRINT_NOT_FOUND',
      message: 'blueprint "nope" not found (known: leaf, mid, root)',
    });
  });
});

describe('resolveBlueprints: services and provenance', () => {
  it('reports a name-only service without a shared definition', () => {
    const state = stateOf({ 'blueprints/a.yaml': blueprintYaml('a', { services: [{ name: 'jira' }] }) });
    const { problems } = resolveBlueprints(state);
    assert.deepEqual(
      problems.map((p) => [p.path, p.message]),
      [
        [
          'spec.services[0].name',
          'service "jira" has no hosts and services/ defines no service of that name: add hosts, or add services/jira.yaml',
        ],
      ],
    );
    assert.equal(thrown(() => resolveBlueprint(state, 'a')).code, 'PDK_CONFIG_INVALID');
  });

  it('records the file of every value: own, ancestor, shared service or default', () => {
    const leaf = resolveBlueprint(chainOfThree(), 'leaf');
    const expected: Record<string, string> = {
      'metadata.name': 'blueprints/leaf.yaml',
      extends: 'blueprints/leaf.yaml',
      spec: 'blueprints/leaf.yaml',
      'spec.goal': 'blueprints/leaf.yaml',
      'spec.tools': 'blueprints/leaf.yaml',
      'spec.tools.commands.allow[0]': 'blueprints/leaf.yaml',
      'spec.tools.mcp': 'blueprints/root.yaml',
      'spec.tools.mcp[0].allow[0]': 'blueprints/root.yaml',
      'spec.services': 'blueprints/mid.yaml',
      'spec.services[0]': 'blueprints/mid.yaml',
      'spec.services[0].name': 'blueprints/mid.yaml',
      'spec.services[0].hosts': 'services/github.yaml',
      'spec.services[0].hosts[1]': 'services/github.yaml',
      'spec.services[0].ports[0]': '(default)',
      'spec.services[0].access': 'blueprints/mid.yaml',
      'spec.services[0].credential': 'services/github.yaml',
      'spec.dataScope.deny[0]': 'blueprints/root.yaml',
      'spec.logging.retention': 'blueprints/root.yaml',
    };
    for (const [path, file] of Object.entries(expected)) assert.equal(leaf.sources.get(path), file, path);
    // Every value of the effective blueprint has a source.
    const paths: string[] = [];
    const walk = (value: unknown, path: string) => {
      paths.push(path);
      if (Array.isArray(value)) for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
      else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(leaf.blueprint, '');
    assert.deepEqual(
      paths.slice(1).filter((path) => !leaf.sources.has(path)),
      [],
    );
  });

  it('locates an effective value in the file and line it came from', () => {
    const leaf = resolveBlueprint(chainOfThree(), 'leaf');
    // services/github.yaml: line 6 is "  hosts:", the list items follow.
    assert.deepEqual(leaf.locate(['spec', 'services', 0, 'hosts', 1]), {
      file: 'services/github.yaml',
      line: 8,
      column: 7,
    });
    assert.equal(leaf.locate(['spec', 'services', 0, 'access']).file, 'blueprints/mid.yaml');
    assert.equal(leaf.locate(['spec', 'dataScope', 'deny', 0]).file, 'blueprints/root.yaml');
    // A default is located at the entry it was filled into.
    assert.equal(leaf.locate(['spec', 'services', 0, 'ports', 0]).file, 'blueprints/mid.yaml');
    assert.equal(leaf.locate(['spec', 'reviewGates', 'timeout']).file, 'blueprints/leaf.yaml');
  });
});
