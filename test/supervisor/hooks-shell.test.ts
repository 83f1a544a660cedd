import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeShell, MAX_EXECS, type ShellExec } from '../../src/supervisor/hooks/shell/analyze.ts';
import { FOLLOWED } from './hooks-shell-cases.ts';
import { REFUSED } from './hooks-shell-refusals.ts';

// Table tests of the shell analysis behind the hook adapters: every argv a command line runs
// (substitutions, subshells, wrappers, `bash -c` included), the files its redirections touch,
// and refusals for everything it cannot follow with certainty.

const OPTIONS = { cwd: '/workspace', home: '/home/agent' } as const;
const argv = (exec: string | readonly string[]) =>
  typeof exec === 'string' ? exec.split(' ').filter((w) => w !== '') : [...exec];
const sorted = <T>(items: readonly T[]) => [...items].map((item) => JSON.stringify(item)).sort();

describe('shell analysis: commands it follows', () => {
  for (const testCase of FOLLOWED) {
    it(JSON.stringify(testCase.command), () => {
      const result = analyzeShell(testCase.command, OPTIONS);
      assert.ok(result.ok, `refused: ${result.ok ? '' : result.reason}`);
      assert.deepEqual(sorted(result.execs.map((exec) => exec.argv)), sorted(testCase.execs.map(argv)));
      assert.deepEqual([...result.writes].sort(), [...(testCase.writes ?? [])].sort());
      assert.deepEqual([...result.reads].sort(), [...(testCase.reads ?? [])].sort());
      assert.deepEqual(
        result.connects.map((c) => `${c.host}:${c.port}`).sort(),
        [...(testCase.connects ?? [])].sort(),
      );
      for (const [line, indices] of Object.entries(testCase.dynamic ?? {})) {
        const found: ShellExec | undefined = result.execs.find((e) => e.argv.join(' ') === line);
        assert.deepEqual(found?.dynamicArgs, indices, line);
      }
      for (const line of testCase.openEnded ?? []) {
        assert.equal(result.execs.find((e) => e.argv.join(' ') === line)?.openEnded, true, line);
      }
    });
  }
});

describe('shell analysis: commands it refuses (fail closed)', () => {
  for (const [command, reason] of REFUSED) {
    it(JSON.stringify(command.length > 60 ? `${command.slice(0, 57)}...` : command), () => {
      const result = analyzeShell(command, OPTIONS);
      assert.equal(result.ok, false, `followed: ${JSON.stringify(result)}`);
      if (!result.ok) {
        assert.ok(
          result.reason.includes(reason),
          `reason ${JSON.stringify(result.reason)} lacks ${JSON.stringify(reason)}`,
        );
        assert.ok(result.hint.length > 10);
      }
    });
  }
});

describe('shell analysis: details', () => {
  it('tracks the working directory along && and forgets it after ; or a subshell-changing loop', () => {
    const result = analyzeShell('cd /srv && make; ls', OPTIONS);
    assert.ok(result.ok);
    assert.deepEqual(
      result.execs.map((e) => [e.argv[0], e.cwd]),
      [
        ['cd', '/workspace'],
        ['make', '/srv'],
        ['ls', null],
      ],
    );
  });

  it('says how each command is reached', () => {
    const result = analyzeShell("xargs sh -c 'curl $1' _ && echo $(id)", OPTIONS);
    assert.ok(result.ok);
    assert.deepEqual(
      result.execs.map((e) => [e.argv[0], e.via]),
      [
        ['xargs', null],
        ['sh', 'xargs'],
        ['curl', 'xargs > sh -c'],
        ['id', '$(...)'],
        ['echo', null],
      ],
    );
  });

  it(`refuses more than ${MAX_EXECS} commands`, () => {
    const result = analyzeShell(Array.from({ length: MAX_EXECS + 1 }, () => 'true').join(';'), OPTIONS);
    assert.equal(result.ok, false);
  });

  it('refuses a command longer than the parse limit', () => {
    const result = analyzeShell(`echo ${'a'.repeat(300 * 1024)}`, OPTIONS);
    assert.deepEqual(result.ok ? null : result.reason, 'command longer than 262144 characters');
  });

  it('has more than 100 table cases in all', () => {
    assert.ok(FOLLOWED.length + REFUSED.length > 100, `${FOLLOWED.length + REFUSED.length}`);
  });
});
