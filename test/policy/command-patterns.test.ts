import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicyBundle, createDecisionPoint, renderCommandLine } from '../../src/policy/index.ts';

// The exact meaning of a command pattern (docs/policy.md, "exec"): matched against the command
// line as one string, `*` any run of characters (spaces too), a trailing " *" optional, allow
// on argv as given, deny also on argv[0]'s basename. Each row: pattern, argv, allowed?

function allows(pattern: string, argv: string[]): boolean {
  const bundle = compilePolicyBundle({
    blueprint: { name: 'p', version: '1.0.0', commands: { allow: [pattern] } },
    protectedPaths: { top: [], anyDepth: [] },
  });
  const pdp = createDecisionPoint(bundle, { memoEntries: 0 });
  const fast = pdp.decideWith('fast', { action: 'exec', argv });
  const cedar = pdp.decideWith('cedar', { action: 'exec', argv });
  assert.equal(fast.decision, cedar.decision);
  return fast.decision === 'allow';
}

function denies(pattern: string, argv: string[]): boolean {
  const bundle = compilePolicyBundle({
    blueprint: { name: 'p', version: '1.0.0', commands: { allow: ['*'], deny: [pattern] } },
    protectedPaths: { top: [], anyDepth: [] },
  });
  return createDecisionPoint(bundle).decide({ action: 'exec', argv }).decision === 'deny';
}

const ALLOW_TABLE: readonly [string, string[], boolean][] = [
  ['git *', ['git', 'status'], true],
  ['git *', ['git', 'push', 'origin', 'main'], true],
  ['git *', ['git'], true], // trailing " *" is optional
  ['git *', ['gitk'], false],
  ['git *', ['/usr/bin/git', 'status'], false], // allow matches argv[0] as given
  ['npm test', ['npm', 'test'], true],
  ['npm test', ['npm', 'test', '--watch'], false],
  ['npm test', ['npm', 'tests'], false],
  ['npm  test ', ['npm', 'test'], true], // whitespace in patterns collapses
  ['npm run *', ['npm', 'run'], true],
  ['npm run *', ['npm', 'run-script', 'x'], false],
  ['git push * main', ['git', 'push', 'origin', 'main'], true],
  ['git push * main', ['git', 'push', '-u', 'origin', 'main'], true], // `*` spans words
  ['git push * main', ['git', 'push', 'main'], false],
  ['git push * main', ['git', 'push', 'origin', 'main', '--force'], false],
  ['node *.js', ['node', 'a.js'], true],
  ['node *.js', ['node', '-e', 'x', 'a.js'], true],
  ['node *.js', ['node', 'a.ts'], false],
  ['echo *', ['echo', 'a b'], true],
  ['echo a b', ['echo', 'a b'], false], // a word with a space is quoted: one argv, one line
  ["echo 'a b'", ['echo', 'a b'], true],
  ['git status', ['git status'], false],
  ['GIT *', ['git', 'x'], false], // case-sensitive
  ['*', ['anything', 'at', 'all'], true],
  ['find * -name *.js', ['find', '.', '-name', '*.js'], true], // shell metacharacters stay bare
];

const DENY_TABLE: readonly [string, string[], boolean][] = [
  ['git push *', ['git', 'push'], true],
  ['git push *', ['git', 'push', 'origin'], true],
  ['git push *', ['/usr/bin/git', 'push', 'origin'], true], // deny also sees the basename
  ['git push *', ['./git', 'push'], true],
  ['git push *', ['git', '-C', 'repo', 'push'], false], // patterns are text, not git's grammar
  ['curl *', ['/opt/bin/curl'], true],
  ['curl *', ['curly'], false],
  ['rm -rf *', ['rm', '-rf', '/'], true],
  ['rm -rf *', ['rm', '-r', '-f', '/'], false],
];

describe('command patterns', () => {
  for (const [pattern, argv, expected] of ALLOW_TABLE) {
    it(`allow "${pattern}" ${expected ? 'matches' : 'does not match'} ${JSON.stringify(argv)}`, () => {
      assert.equal(allows(pattern, argv), expected);
    });
  }
  for (const [pattern, argv, expected] of DENY_TABLE) {
    it(`deny "${pattern}" ${expected ? 'matches' : 'does not match'} ${JSON.stringify(argv)}`, () => {
      assert.equal(denies(pattern, argv), expected);
    });
  }

  it('renders argv one-to-one: quoting words with spaces, quotes, backslashes or nothing', () => {
    assert.equal(renderCommandLine(['git', 'commit', '-m', 'a b']), "git commit -m 'a b'");
    assert.equal(renderCommandLine(['echo', "it's"]), "echo 'it'\\''s'");
    assert.equal(renderCommandLine(['echo', '']), "echo ''");
    assert.equal(renderCommandLine(['printf', 'a\\nb']), "printf 'a\\nb'");
    assert.equal(renderCommandLine(['ls', '*.ts', '$HOME', 'a;b']), 'ls *.ts $HOME a;b');
    assert.notEqual(renderCommandLine(['git', 'push origin']), renderCommandLine(['git', 'push', 'origin']));
  });
});
