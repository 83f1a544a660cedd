import assert from 'node:assert/strict';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeWorkspace, runInSandbox, WORKSPACE_OWNER } from '../support/sandbox-harness.ts';

// Ordinary agent work inside a real sandbox (with its real, deny-all network): git, node,
// npm test on a sample project, python. A sandbox that blocks these is not one anyone uses.

async function inProject(script: string, files: Record<string, string> = {}) {
  const workspace = makeWorkspace('pdk-use-');
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(workspace.dir, name, '..'), { recursive: true });
      writeFileSync(join(workspace.dir, name), content);
      chownSync(join(workspace.dir, name), WORKSPACE_OWNER, WORKSPACE_OWNER);
    }
    return await runInSandbox(['/bin/bash', '-c', `set -e; ${script}`], {
      workdir: workspace.dir,
      network: true,
      timeoutMs: 60_000,
    });
  } finally {
    workspace.remove();
  }
}

describe('usability inside the sandbox', () => {
  it('git init, add, commit, diff and log work in /workspace', async () => {
    const run = await inProject(`
      git init -q && git config user.name Agent && git config user.email agent@example.com
      echo one > a.txt && git add a.txt && git commit -qm first
      echo two >> a.txt && git diff --stat
      git commit -qam second && git log --oneline | wc -l`);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /a.txt \| 1 \+\n.*1 file changed/);
    assert.match(run.stdout, /^2$/m);
  });

  it('node runs scripts and npm test runs a node:test suite, offline', async () => {
    const run = await inProject(
      'node -e "console.log(process.version, require(\'os\').userInfo().username)"; npm test --silent 2>&1',
      {
        'package.json': JSON.stringify({
          name: 'sample',
          version: '1.0.0',
          scripts: { test: 'node --test' },
        }),
        'test/math.test.js':
          "const test = require('node:test'); const assert = require('node:assert');\ntest('adds', () => assert.equal(1 + 1, 2));\n",
      },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^v\d+\.\d+\.\d+ agent$/m);
    assert.match(run.stdout, /pass 1/);
  });

  it('python runs scripts that use the standard library and write files', async () => {
    const run = await inProject('python3 script.py && cat out.json', {
      'script.py':
        'import json, pathlib, sqlite3, tempfile\ndb = sqlite3.connect(":memory:")\nrows = db.execute("select 6 * 7").fetchall()\npathlib.Path("out.json").write_text(json.dumps({"answer": rows[0][0], "tmp": tempfile.gettempdir()}))\n',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { answer: 42, tmp: '/tmp' });
  });

  it('has a HOME, a /tmp and the proxy variables of the sandbox network', async () => {
    const run = await inProject('echo $HOME; touch ~/.cache-test /tmp/t && echo writable; echo $HTTPS_PROXY');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\/home\/agent\nwritable\nhttp:\/\/10\.\d+\.\d+\.\d+:\d+\n$/);
  });
});
