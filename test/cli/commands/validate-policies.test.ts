import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VALID_REPO, writeRepo } from '../../config/temp-repo.ts';
import { EXAMPLES } from '../../policy/pdp-fixtures.ts';
import { runCli } from './run-cli.ts';

// `paddock validate` checks policies/*.cedar with the policy compiler: syntax, annotations and
// the Paddock schema, each problem located as file:line:column like every other file's.

describe('paddock validate: policies/*.cedar', () => {
  it('accepts the example platform and its policies', async () => {
    const result = await runCli(['validate', EXAMPLES], process.cwd());
    assert.equal(result.code, 0, result.stdout);
  });

  it('lists Cedar problems with the other problems', async () => {
    const root = writeRepo({
      ...VALID_REPO,
      'policies/a.cedar':
        '// fine\nforbid (principal, action == Action::"exec", resource) when { context.program == "curl" };\n',
      'policies/b.cedar':
        '\nforbid (principal, action == Action::"read_file", resource)\n  when { context.command == "x" };\n',
      'policies/c.cedar': '@review("later")\npermit (principal, action, resource);\n',
      'policies/d.cedar': 'permit (principal action, resource);\n',
    });
    const result = await runCli(['validate', '--json'], root);
    assert.equal(result.code, 1);
    const problems = JSON.parse(result.stdout).problems as { file: string; line: number; message: string }[];
    assert.deepEqual(
      problems.map((problem) => `${problem.file}:${problem.line}`),
      ['policies/b.cedar:3', 'policies/c.cedar:1', 'policies/d.cedar:1'],
    );
    assert.match(problems[0]!.message, /attribute `command` in context for Action::"read_file" not found/u);
    assert.equal(problems[1]!.message, '@review("later") must be "required" or "none"');
  });
});
