import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { GUEST, renderUserData } from '../../../src/providers/kubevirt/index.ts';
import { fixtureSettings } from './render-fixture.ts';

// The identity sync script cloud-init installs, run for real with /bin/sh in a temp directory.
// Only `mountpoint` is a STAND-IN (a shim on PATH that says "mounted"): the disk is a directory.

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function syncScript(): string {
  const userData = renderUserData({
    workspaceId: 'ws-0123456789ab',
    profile: 'large-kubevirt',
    blueprint: 'docs-research',
    channelUrl: 'ws://paddock.paddock.svc.cluster.local:8080/channel',
    desiredStateFiles: new Map(),
    settings: fixtureSettings(),
  });
  const files = (parse(userData) as { write_files: { path: string; content: string; permissions: string }[] })
    .write_files;
  const script = files.find((file) => file.path === GUEST.identitySync);
  assert.ok(script);
  assert.equal(script.permissions, '0700');
  return script.content;
}

describe('cloud-init identity sync (real /bin/sh, stand-in mountpoint)', () => {
  it('copies a new identity, keeps a rotated one across reboots, takes the next fresh one', () => {
    const root = mkdtempSync(join(tmpdir(), 'paddock-sync-'));
    dirs.push(root);
    const disk = join(root, 'disk');
    const state = join(root, 'state');
    const bin = join(root, 'bin');
    mkdirSync(disk);
    mkdirSync(bin);
    writeFileSync(join(bin, 'mountpoint'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'mountpoint'), 0o755);
    const script = join(root, 'sync.sh');
    writeFileSync(
      script,
      syncScript()
        .replaceAll(GUEST.identityDisk, disk)
        .replaceAll(GUEST.identityFile.slice(0, GUEST.identityFile.lastIndexOf('/')), state),
    );
    const run = () => execFileSync('/bin/sh', [script], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    const copy = join(state, 'identity.json');

    writeFileSync(join(disk, 'identity.json'), '{"kid":"first"}\n');
    run();
    assert.equal(readFileSync(copy, 'utf8'), '{"kid":"first"}\n');

    writeFileSync(copy, '{"kid":"rotated"}\n'); // the supervisor rotated its key
    run(); // a reboot: the disk still holds the first identity
    assert.equal(readFileSync(copy, 'utf8'), '{"kid":"rotated"}\n');

    writeFileSync(join(disk, 'identity.json'), '{"kid":"fresh"}\n'); // a new start
    run();
    assert.equal(readFileSync(copy, 'utf8'), '{"kid":"fresh"}\n');
  });

  it('fails (the supervisor does not start) when the identity disk holds no identity', () => {
    const root = mkdtempSync(join(tmpdir(), 'paddock-sync-'));
    dirs.push(root);
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'mountpoint'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'mountpoint'), 0o755);
    const script = join(root, 'sync.sh');
    writeFileSync(
      script,
      syncScript()
        .replaceAll(GUEST.identityDisk, join(root, 'disk'))
        .replaceAll(GUEST.identityFile.slice(0, GUEST.identityFile.lastIndexOf('/')), join(root, 'state')),
    );
    assert.throws(() =>
      execFileSync('/bin/sh', [script], { env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: 'pipe' }),
    );
  });
});
