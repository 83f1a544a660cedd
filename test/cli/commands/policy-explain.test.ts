import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VALID_REPO, writeRepo } from '../../config/temp-repo.ts';
import { EXAMPLES } from '../../policy/pdp-fixtures.ts';
import { runCli } from './run-cli.ts';

// `paddock policy explain`: the decision a blueprint's bundle makes, the determining policies
// with the field and file each came from, and why; text and --json; usage errors exit 2.

const explain = (...args: string[]) =>
  runCli(['policy', 'explain', '--config', EXAMPLES, ...args], process.cwd());

describe('paddock policy explain', () => {
  it('prints a denied command with the deny pattern and the file it came from', async () => {
    const result = await explain(
      '--blueprint',
      'coding-agent',
      '--action',
      'exec',
      '--resource',
      'git push origin main',
    );
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], 'decision  deny (command_denied: a commands.deny pattern matches the command)');
    assert.match(
      lines[1]!,
      /^bundle {4}coding-agent:[0-9a-f]{16} version 1\.2\.0, blueprint coding-agent <- coding-base$/u,
    );
    assert.equal(lines[2], 'request   exec git push origin main');
    assert.equal(lines[4], 'engine    fast path; Cedar agrees');
    assert.ok(
      lines.includes(
        '  commands.deny[6]  (forbid; spec.tools.commands.deny[6] in blueprints/coding-agent.yaml)',
      ),
    );
    assert.match(result.stdout, /why: Forbidden by commands\.deny\[6\]\. A forbid wins over every permit/u);
  });

  it('prints a review with the gate, the reviewers and the timeout', async () => {
    const result = await explain(
      '--blueprint',
      'code-review',
      '--action',
      'http_request',
      '--resource',
      'POST https://api.github.com/repos/a/b/pulls/1/reviews',
    );
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^decision {2}review \(review_required/u);
    // code-review inherits its writes from coding-base: the source names the parent's file.
    assert.match(
      result.stdout,
      /writes\[0\]\.review {2}\(review gate; spec\.writes\[0\] in blueprints\/coding-base\.yaml\)/u,
    );
    assert.match(result.stdout, /held until 1 approval\(s\) from group:appsec, within 2h \(then deny\)/u);
  });

  it('names the extra policy file and line for a platform-wide forbid, as JSON', async () => {
    const result = await explain(
      '--blueprint',
      'coding-base',
      '--action',
      'write_file',
      '--resource',
      '/workspace/.github/workflows/ci.yml',
      '--json',
    );
    assert.equal(result.code, 0);
    const json = JSON.parse(result.stdout);
    assert.deepEqual(
      [json.decision, json.reason, json.policyIds, json.engine, json.cedarAgrees],
      ['deny', 'ci_config_protected', ['extra:policies/protect-ci.cedar#no-ci-edits'], 'fast', true],
    );
    assert.deepEqual(
      [json.policies[0].file, json.policies[0].line, json.policies[0].effect],
      ['policies/protect-ci.cedar', 3, 'forbid'],
    );
    assert.deepEqual(json.context, { path: '/workspace/.github/workflows/ci.yml' });
  });

  it('explains a default deny and a malformed resource', async () => {
    const denied = await explain(
      '--blueprint',
      'docs-research',
      '--action',
      'connect',
      '--resource',
      'evil.example.com',
    );
    assert.match(denied.stdout, /determining policies: none/u);
    assert.match(denied.stdout, /why: Nothing permits it: no permit for connect matched/u);
    const malformed = await explain(
      '--blueprint',
      'docs-research',
      '--action',
      'read_file',
      '--resource',
      '/a/../b',
      '--json',
    );
    const json = JSON.parse(malformed.stdout);
    assert.deepEqual(
      [json.decision, json.reason, json.detail],
      ['deny', 'path_invalid', 'the path contains a "." or ".." segment'],
    );
  });

  it('passes MCP arguments and the user and groups', async () => {
    const result = await explain(
      '--blueprint',
      'ticket-triage',
      '--action',
      'mcp_call',
      '--resource',
      'jira/add_comment',
      '--arguments',
      '{"issue":"PROJ-1"}',
      '--user',
      'dave@example.com',
      '--group',
      'support',
      '--json',
    );
    const json = JSON.parse(result.stdout);
    assert.deepEqual([json.decision, json.context.arguments], ['allow', '{"issue":"PROJ-1"}']);
  });

  it('exits 2 on usage errors and 1 on an unknown blueprint', async () => {
    const missing = await explain('--blueprint', 'code-review', '--action', 'exec');
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^error PDK_CLI_USAGE: paddock policy explain needs --blueprint, --action and --resource/u,
    );
    const action = await explain('--blueprint', 'code-review', '--action', 'delete', '--resource', 'x');
    assert.equal(action.code, 2);
    assert.match(
      action.stderr,
      /--action must be one of read_file, write_file, exec, connect, http_request, mcp_call/u,
    );
    const quote = await explain('--blueprint', 'code-review', '--action', 'exec', '--resource', "echo 'open");
    assert.match(quote.stderr, /unterminated single quote/u);
    const unknown = await explain('--blueprint', 'nope', '--action', 'exec', '--resource', 'ls');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error PDK_BLUEPRINT_NOT_FOUND: blueprint "nope" not found/u);
  });

  it('refuses to explain with a broken policies/*.cedar', async () => {
    const root = writeRepo({
      ...VALID_REPO,
      'policies/bad.cedar': 'permit (principal, action, resource) when { context.x ++ };',
    });
    const result = await runCli(
      ['policy', 'explain', '--blueprint', 'code-review', '--action', 'exec', '--resource', 'ls'],
      root,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error PDK_POLICY_PARSE: policies\/bad\.cedar:1:56 unexpected token `\+`/u);
  });
});
