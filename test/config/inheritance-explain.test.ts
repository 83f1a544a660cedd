import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.ts';
import { blueprintYaml, serviceYaml } from './inheritance-state.ts';
import { PLATFORM, writeRepo } from './temp-repo.ts';

// `paddock blueprint explain`, run through the CLI entry point on a repository on disk.

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function paddock(args: string[], cwd = '/') {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: {}, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const BASE = blueprintYaml('coding-base', {
  tools: { commands: { allow: ['git *', 'npm *'], deny: ['git push *'] } },
  services: [{ name: 'github', access: 'read-write' }],
  dataScope: { read: ['/workspace'], write: ['/workspace'], deny: ['/workspace/.env'] },
});
const REVIEW = blueprintYaml(
  'code-review',
  { tools: { commands: { allow: ['git status', 'npm test'], deny: ['git push *'] } } },
  'coding-base',
);

function repo(extra: Record<string, string> = {}): string {
  return writeRepo({
    'paddock.yaml': PLATFORM,
    'services/github.yaml': serviceYaml('github', { hosts: ['api.github.com'], credential: 'github-pat' }),
    'blueprints/coding-base.yaml': BASE,
    'blueprints/code-review.yaml': REVIEW,
    ...extra,
  });
}

describe('paddock blueprint explain', () => {
  it('prints the effective blueprint with the source file of every line', async () => {
    const dir = repo();
    const { code, stdout, stderr } = await paddock(['blueprint', 'explain', 'code-review', '--config', dir]);
    assert.equal(stderr, '');
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], '# effective blueprint "code-review" (code-review -> coding-base)');
    for (const line of lines.slice(1)) assert.match(line, /\S {2,}# \S+$/u, line);
    const find = (pattern: RegExp) => lines.find((line) => pattern.test(line));
    assert.match(find(/^ {8}- api\.github\.com /u)!, /# services\/github\.yaml$/u);
    assert.match(find(/^ {6}credential: github-pat /u)!, /# services\/github\.yaml$/u);
    assert.match(find(/^ {6}access: read-write /u)!, /# blueprints\/coding-base\.yaml$/u);
    assert.match(find(/^ {4}- name: github /u)!, /# blueprints\/coding-base\.yaml$/u);
    assert.match(find(/^ {8}- 443 /u)!, /# \(default\)$/u);
    assert.match(find(/^ {8}- git status /u)!, /# blueprints\/code-review\.yaml$/u);
    assert.match(find(/^ {6}- \/workspace\/\.env /u)!, /# blueprints\/coding-base\.yaml$/u);
    // The text is YAML: with its comments ignored it is the blueprint that --json prints.
    const json = await paddock(['blueprint', 'explain', 'code-review', '--config', dir, '--json']);
    assert.deepEqual(parse(stdout), JSON.parse(json.stdout).blueprint);
  });

  it('prints {blueprint, sources} with --json', async () => {
    const { code, stdout } = await paddock([
      'blueprint',
      'explain',
      'code-review',
      '--config',
      repo(),
      '--json',
    ]);
    assert.equal(code, 0);
    const out = JSON.parse(stdout);
    assert.deepEqual(out.chain, ['code-review', 'coding-base']);
    assert.deepEqual(out.blueprint.spec.services, [
      {
        name: 'github',
        hosts: ['api.github.com'],
        ports: [443],
        access: 'read-write',
        credential: 'github-pat',
      },
    ]);
    assert.equal(out.sources['spec.services[0].hosts[0]'], 'services/github.yaml');
    assert.equal(out.sources['spec.services[0].access'], 'blueprints/coding-base.yaml');
    assert.equal(out.sources['spec.services[0].ports[0]'], '(default)');
    assert.equal(out.sources['spec.tools.commands.allow[1]'], 'blueprints/code-review.yaml');
    assert.equal(out.sources['spec.dataScope.deny[0]'], 'blueprints/coding-base.yaml');
    assert.equal(out.sources['metadata.version'], 'blueprints/code-review.yaml');
  });

  it('explains a blueprint file outside the repository, with parents from the repository', async () => {
    const dir = repo();
    const drafts = writeRepo({
      'draft.yaml': blueprintYaml(
        'draft',
        { dataScope: { read: ['/workspace/src'], write: [], deny: ['/workspace/.env'] } },
        'coding-base',
      ),
    });
    const { code, stdout } = await paddock(
      ['blueprint', 'explain', './draft.yaml', '--config', dir, '--json'],
      drafts,
    );
    assert.equal(code, 0);
    const out = JSON.parse(stdout);
    assert.deepEqual(out.chain, ['draft', 'coding-base']);
    assert.equal(out.sources['spec.dataScope.read[0]'], join(drafts, 'draft.yaml'));
    assert.equal(out.sources['spec.tools.commands.allow[0]'], 'blueprints/coding-base.yaml');
  });

  it('refuses a blueprint that widens its parent, listing each widening with its location', async () => {
    const wide = blueprintYaml('wide', { tools: { commands: { allow: ['curl *'] } } }, 'coding-base');
    const { code, stdout, stderr } = await paddock([
      'blueprint',
      'explain',
      'wide',
      '--config',
      repo({ 'blueprints/wide.yaml': wide }),
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    // deny is omitted, so it is the schema default [] and drops the parent's deny.
    assert.deepEqual(stderr.split('\n').slice(0, 3), [
      'error PDK_BLUEPRINT_WIDENS: blueprint "wide" cannot be resolved: spec.tools.commands.allow widens parent "coding-base": adds "curl *" (and 1 more)',
      '  blueprints/wide.yaml:15:11 spec.tools.commands.allow: spec.tools.commands.allow widens parent "coding-base": adds "curl *"',
      '  blueprints/wide.yaml:13:5 spec.tools.commands.deny: spec.tools.commands.deny widens parent "coding-base": removes "git push *"',
    ]);
  });

  it('reports an unknown blueprint', async () => {
    const { code, stderr } = await paddock(['blueprint', 'explain', 'nope', '--config', repo()]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^error PDK_BLUEPRINT_NOT_FOUND: blueprint "nope" not found \(known: code-review, coding-base\)\n/u,
    );
  });

  it('stops on a broken blueprint file, and only notes problems elsewhere', async () => {
    const broken = await paddock([
      'blueprint',
      'explain',
      'code-review',
      '--config',
      repo({ 'blueprints/coding-base.yaml': 'kind: [' }),
    ]);
    assert.equal(broken.code, 1);
    assert.match(
      broken.stderr,
      /^error PDK_CONFIG_INVALID: .* that the blueprint may depend on\n {2}blueprints\/coding-base\.yaml:/u,
    );
    const elsewhere = await paddock([
      'blueprint',
      'explain',
      'code-review',
      '--config',
      repo({ 'profiles/bad.yaml': 'kind: Profile\n' }),
    ]);
    assert.equal(elsewhere.code, 0);
    assert.match(
      elsewhere.stderr,
      /^note: \d+ problems? in 1 file elsewhere in .*; run `paddock validate`\n$/u,
    );
  });

  it('needs exactly one NAME', async () => {
    const { code, stderr } = await paddock(['blueprint', 'explain', '--config', repo()]);
    assert.equal(code, 2);
    assert.match(stderr, /^error PDK_CLI_USAGE: paddock blueprint explain takes one NAME or FILE, got 0\n/u);
  });
});
