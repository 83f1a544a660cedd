import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RENDERERS } from '../../../src/cli/commands/render.ts';
import { FIXTURE_DIR, GOLDEN_DIR, SETTINGS_FILE } from '../../providers/kubevirt/render-fixture.ts';
import { runCli } from './run-cli.ts';

// `paddock render TARGET --out DIR`: writes the same bytes as the golden render, replaces a
// previous render, and writes nothing when the render is refused.

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-render-'));
  dirs.push(dir);
  return dir;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
    )
    .sort();
}

describe('paddock render', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('kubevirt: writes the golden render into --out and says how many files', async () => {
    const out = tempDir();
    const result = await runCli(
      ['render', 'kubevirt', '--config', FIXTURE_DIR, '--settings', SETTINGS_FILE, '--out', out],
      out,
    );
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    const golden = join(GOLDEN_DIR, 'full');
    assert.deepEqual(listFiles(out), listFiles(golden));
    for (const file of listFiles(golden))
      assert.equal(readFileSync(join(out, file), 'utf8'), readFileSync(join(golden, file), 'utf8'));
    assert.equal(result.stdout, `rendered ${listFiles(golden).length} files into ${out}\n`);
  });

  it('replaces what an earlier render wrote, and leaves other files alone', async () => {
    const out = tempDir();
    await runCli(['render', 'kubevirt', '-c', FIXTURE_DIR, '--settings', SETTINGS_FILE, '-o', out], out);
    writeFileSync(join(out, 'users', 'stale.yaml'), 'kind: Stale\n');
    writeFileSync(join(out, 'README.md'), 'kept\n');
    const result = await runCli(['render', 'kubevirt', '-c', FIXTURE_DIR, '-o', out], out);
    assert.equal(result.code, 0);
    assert.ok(!existsSync(join(out, 'users', 'stale.yaml')));
    assert.ok(!existsSync(join(out, 'platform')), 'default settings render no platform objects');
    assert.equal(readFileSync(join(out, 'README.md'), 'utf8'), 'kept\n');
  });

  it('a refused render writes nothing and exits 1 with the code', async () => {
    const out = tempDir();
    const settings = join(out, 'bad.yaml');
    writeFileSync(settings, 'controlPlane: { channelPort: 0 }\nunknownKey: 1\n');
    const result = await runCli(
      ['render', 'kubevirt', '-c', FIXTURE_DIR, '--settings', settings, '-o', join(out, 'render')],
      out,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /PDK_KUBEVIRT_SETTINGS_INVALID/);
    assert.match(result.stderr, /controlPlane\.channelPort/);
    assert.ok(!existsSync(join(out, 'render')));
  });

  it('usage errors: unknown target, missing --out', async () => {
    const cwd = tempDir();
    const unknown = await runCli(['render', 'vmware', '-o', cwd], cwd);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, new RegExp(`one TARGET \\(${Object.keys(RENDERERS).join(', ')}\\)`));
    const noOut = await runCli(['render', 'kubevirt', '-c', FIXTURE_DIR], cwd);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /needs --out DIR/);
  });
});
