// The local control plane as `paddock up` wires it: a supervisor's channel identity is
// rotated on schedule while it stays connected, and the replaced key is never active again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireValidRepository } from '../../src/config/index.ts';
import {
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../src/controlplane/local-control-plane.ts';

const CONFIG_DIR = resolve(import.meta.dirname, '../../examples/platform');

describe('local control plane: identity rotation', () => {
  // Under /tmp: sandboxes must be able to traverse to the workspace's home (docs/workspaces.md).
  const dataDir = mkdtempSync('/tmp/paddock-lcp-');
  let plane: LocalControlPlane;

  before(async () => {
    const { state } = await requireValidRepository(CONFIG_DIR);
    plane = await startLocalControlPlane({
      state,
      configDir: CONFIG_DIR,
      dataDir,
      port: 0,
      identityRotationMs: 300,
    });
  });
  after(async () => {
    await plane?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rotates the connected workspace identity on schedule; it stays connected on the new key', async () => {
    // The identities are in the store (every replica's, and kept across restarts).
    const read = () => plane.store.listChannelIdentities('ws-alice');
    const deadline = Date.now() + 10_000;
    while (
      (await read()).filter((identity) => identity.status === 'rotated').length < 2 &&
      Date.now() < deadline
    )
      await new Promise((done) => setTimeout(done, 100));
    const identities = await read();
    assert.ok(
      identities.filter((identity) => identity.status === 'rotated').length >= 2,
      'rotated at least twice',
    );
    assert.equal(
      identities.filter((identity) => identity.status === 'active').length,
      1,
      'exactly one active key',
    );
    assert.equal(plane.channel.isConnected('ws-alice'), true);
    // A terminal still opens over the rotated channel.
    const terminal = await plane.channel
      .target('ws-alice')
      .open({ cols: 80, rows: 24, userId: 'alice@example.com', attachId: 'rotation-test', mode: 'shell' });
    const exited = new Promise((done) => terminal.onExit(done));
    terminal.write('exit 7\r');
    assert.deepEqual(await exited, { exitCode: 7, signal: null });
  });
});
