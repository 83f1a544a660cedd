import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { syncEtcMirror } from '../../src/supervisor/sandbox/etc-mirror.ts';

// The sandbox's /etc mirror: copies of allowlisted entries, symlinks kept, private keys never
// copied, nothing setuid, refreshed when the host changes, left alone when it does not.

describe('syncEtcMirror', () => {
  it('mirrors files, directories and symlinks, skips excluded paths, and follows host changes', () => {
    const root = mkdtempSync(join(tmpdir(), 'pdk-etc-'));
    const host = join(root, 'etc');
    const mirror = join(root, 'mirror');
    try {
      mkdirSync(join(host, 'ssl', 'private'), { recursive: true });
      writeFileSync(join(host, 'ld.so.cache'), 'cache-1');
      writeFileSync(join(host, 'ssl', 'openssl.cnf'), 'cnf', { mode: 0o4755 });
      writeFileSync(join(host, 'ssl', 'private', 'key.pem'), 'PRIVATE KEY');
      symlinkSync('../usr/lib/os-release', join(host, 'os-release'));
      const entries = ['ld.so.cache', 'ssl', 'os-release', 'missing'].map((name) => join(host, name));
      const options = { root: host, excluded: [join(host, 'ssl', 'private')] };

      syncEtcMirror(mirror, entries, options);
      assert.equal(readFileSync(join(mirror, 'ld.so.cache'), 'utf8'), 'cache-1');
      assert.equal(readlinkSync(join(mirror, 'os-release')), '../usr/lib/os-release');
      assert.equal(existsSync(join(mirror, 'ssl', 'private')), false, 'private keys are never mirrored');
      assert.equal(
        statSync(join(mirror, 'ssl', 'openssl.cnf')).mode & 0o7777,
        0o755,
        'no setuid bit survives',
      );
      assert.equal(existsSync(join(mirror, 'missing')), false);

      const before = lstatSync(join(mirror, 'ssl')).ctimeMs;
      syncEtcMirror(mirror, entries, options);
      assert.equal(lstatSync(join(mirror, 'ssl')).ctimeMs, before, 'unchanged entries are not copied again');

      writeFileSync(join(host, 'ld.so.cache'), 'cache-2');
      utimesSync(join(host, 'ld.so.cache'), new Date(), new Date(Date.now() + 5000));
      rmSync(join(host, 'os-release'));
      syncEtcMirror(mirror, entries, options);
      assert.equal(readFileSync(join(mirror, 'ld.so.cache'), 'utf8'), 'cache-2');
      assert.equal(
        existsSync(join(mirror, 'os-release')),
        false,
        'an entry gone from the host goes from the mirror',
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
