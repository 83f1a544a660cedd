import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  probeBubblewrap,
  probeCgroups,
  probeUserNamespaces,
} from '../../../src/supervisor/sandbox/kernel-features.ts';
import { runCli } from './run-cli.ts';

// `paddock doctor` on this host, which must be able to run sandboxes (the rest of the suite
// depends on it): every required feature OK, exit 0, and the JSON form lists each probe.

const IDS = ['root', 'userns', 'netns', 'bwrap', 'nftables', 'seccomp', 'landlock', 'cgroups', 'rlimits'];

describe('paddock doctor', () => {
  it('lists every feature with its status and exits 0 when the host is ready', async () => {
    const result = await runCli(['doctor'], process.cwd());
    assert.equal(result.code, 0, result.stdout);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, IDS.length + 1);
    for (const line of lines.slice(0, -1)) assert.match(line, /^OK {7}\S/);
    assert.match(result.stdout, /bubblewrap: \/usr\/bin\/bwrap \d+\.\d+\.\d+/);
    assert.match(result.stdout, /Landlock: ABI \d+/);
    assert.match(result.stdout, /cgroups: v2 .*; limits use rlimits \(optional\)/);
    assert.equal(lines.at(-1), 'sandbox: ready');
  });

  it('prints JSON with id, status, required, detail', async () => {
    const result = await runCli(['doctor', '--json'], process.cwd());
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      features: { id: string; status: string; required: boolean }[];
    };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.features.map((feature) => feature.id),
      IDS,
    );
    assert.equal(report.features.find((feature) => feature.id === 'cgroups')?.required, false);
  });

  it('names the fix for a missing feature', () => {
    // The probes read the host; a missing feature cannot be staged here, so check the shape the
    // launcher raises: a missing report carries `fix`, an OK one does not.
    for (const report of [probeUserNamespaces(), probeBubblewrap(), probeCgroups()]) {
      assert.equal(report.status, 'ok');
      assert.equal('fix' in report, false);
    }
  });
});
