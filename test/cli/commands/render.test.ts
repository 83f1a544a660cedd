import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { RENDERERS } from '../../../src/cli/commands/render.ts';
import { FIXTURE_DIR, GOLDEN_DIR, SETTINGS_FILE } from '../../providers/kubevirt/render-fixture.ts';
import { RELEASE_ROOT_FILE } from '../../providers/release-fixture.ts';
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

  it("kubevirt --release-roots: every Linux guest gets its channel's root byte for byte; a missing root writes nothing", async () => {
    const roots = tempDir();
    copyFileSync(RELEASE_ROOT_FILE, join(roots, 'canary.root.json'));
    const out = tempDir();
    const result = await runCli(
      [
        'render',
        'kubevirt',
        '-c',
        FIXTURE_DIR,
        '--settings',
        SETTINGS_FILE,
        '--release-roots',
        roots,
        '-o',
        out,
      ],
      out,
    );
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    const root = readFileSync(RELEASE_ROOT_FILE);
    let linuxGuests = 0;
    for (const file of listFiles(out).filter((name) => /secret-.*-cloud-init\.yaml$/.test(name))) {
      const secret = parse(readFileSync(join(out, file), 'utf8')) as { data: { userdata: string } };
      const userData = Buffer.from(secret.data.userdata, 'base64').toString('utf8');
      if (!userData.startsWith('#cloud-config')) continue; // Windows guests: test/providers/kubevirt/releases.test.ts
      const files = (parse(userData) as { write_files: { path: string; content: string }[] }).write_files;
      const anchor = files.find((written) => written.path === '/etc/paddock/releases/canary.root.json');
      assert.ok(anchor, `${file} pins no release root`);
      assert.deepEqual(Buffer.from(anchor.content, 'base64'), root);
      linuxGuests += 1;
    }
    assert.ok(linuxGuests > 0, 'some Linux guest was rendered');

    const empty = tempDir();
    const refused = await runCli(
      ['render', 'kubevirt', '-c', FIXTURE_DIR, '--release-roots', empty, '-o', join(empty, 'render')],
      empty,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /PDK_WORKSPACE_PROVIDER/);
    assert.match(refused.stderr, /cannot read the root of release channel canary/);
    assert.ok(!existsSync(join(empty, 'render')));
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
