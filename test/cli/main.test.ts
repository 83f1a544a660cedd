import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { PRODUCT_VERSION } from '../../src/core/version.ts';
import { runCli } from './commands/run-cli.ts';

describe('paddock (the CLI frame)', () => {
  it('prints the command list for --help (exit 0) and without arguments (stderr, exit 2)', async () => {
    const help = await runCli(['--help'], '/');
    assert.equal(help.code, 0);
    for (const command of COMMANDS) assert.ok(help.stdout.includes(`  ${command.name} `), command.name);
    const bare = await runCli([], '/');
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, /^paddock: secure agent workspaces/);
  });

  it('prints its version', async () => {
    assert.deepEqual(await runCli(['--version'], '/'), {
      code: 0,
      stdout: `${PRODUCT_VERSION}\n`,
      stderr: '',
    });
  });

  it('gives every command --help, with its usage and options, on stdout', async () => {
    for (const entry of COMMANDS) {
      const result = await runCli([...entry.name.split(' '), '--help'], '/');
      assert.equal(result.code, 0, entry.name);
      assert.ok(result.stdout.startsWith(`Usage: paddock ${entry.name}`), entry.name);
      assert.match(result.stdout, /-h, --help +show this help/, entry.name);
    }
  });

  it("names an unknown command on stderr with exit 2, and suggests a group's commands", async () => {
    const unknown = await runCli(['frobnicate'], '/');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error PDK_CLI_UNKNOWN_COMMAND: unknown command "frobnicate"\n {2}fix: /);
    const group = await runCli(['review'], '/');
    assert.equal(group.code, 2);
    assert.match(
      group.stderr,
      /did you mean one of: review list, review show, review approve, review deny\?/,
    );
    const groupHelp = await runCli(['review', '--help'], '/');
    assert.equal(groupHelp.code, 0);
    assert.match(groupHelp.stdout, /^ {2}review list +list held calls/m);
  });

  it('reports an unknown option as a usage error naming the command', async () => {
    const result = await runCli(['validate', '--frobnicate'], '/');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error PDK_CLI_USAGE: paddock validate: Unknown option '--frobnicate'/);
  });
});
