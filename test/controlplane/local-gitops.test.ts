// GitOps in `paddock up`, end to end with real processes: the control plane opens the release
// repository, its reconciler releases the desired-state directory to canary before any
// workspace starts, and the demo workspace's supervisor verifies and applies that signed
// release (attested, in sync). A Cedar policy added to the directory is released by the
// reconciler within seconds, the supervisor applies it, and a decision made in a terminal
// changes, its audit event naming the new bundle.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireValidRepository } from '../../src/config/index.ts';
import {
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../src/controlplane/local-control-plane.ts';
import type { WorkspacePolicyStatus } from '../../src/controlplane/releases/index.ts';
import { runCli } from '../cli/commands/run-cli.ts';
import { collect } from '../support/terminal-output.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/platform');
const ALICE = 'alice@example.com';
const WS = 'ws-alice';

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

interface DecisionEvent {
  readonly metadata: { readonly event_code?: string };
  readonly policy?: { readonly uid?: string; readonly version?: string };
  readonly process?: { readonly cmd_line?: string };
  readonly disposition_id?: number;
}

describe('paddock up: signed releases and the reconciler (real supervisor, real sandbox)', () => {
  // Under /tmp: sandboxes must be able to traverse to the workspace's home (docs/workspaces.md).
  const root = mkdtempSync('/tmp/paddock-gitops-');
  const dataDir = join(root, 'data');
  const configDir = join(root, 'desired-state');
  let plane: LocalControlPlane;

  before(async () => {
    chmodSync(root, 0o711);
    cpSync(EXAMPLES, configDir, { recursive: true });
    const { state } = await requireValidRepository(configDir);
    plane = await startLocalControlPlane({ state, configDir, dataDir, port: 0, reconcileIntervalMs: 300 });
  });
  after(async () => {
    await plane?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const attestation = async () =>
    (await plane.releases.endpoint.workspaces()).find((status) => status.workspaceId === WS);

  /** A terminal of alice's workspace, and a way to run one command and read what it printed. */
  async function shell(attachId: string) {
    const terminal = await plane.channel
      .target(WS)
      .open({ cols: 400, rows: 24, mode: 'shell', userId: ALICE, attachId });
    const output = collect(terminal);
    let runs = 0;
    const run = async (command: string) => {
      const n = ++runs;
      const start = output.text.length;
      terminal.write(`${command}; echo "status=$? end-$((${n}*1000))"\n`);
      await output.until(new RegExp(`status=\\d+ end-${n * 1000}\\r`), 30_000);
      return output.text.slice(start);
    };
    return { terminal, run };
  }

  /** The exec decisions of `command` in ws-alice's chain in the central store. */
  async function decisionsOf(command: string): Promise<DecisionEvent[]> {
    const records = await plane.store.readAuditEvents({ source: WS, limit: 100_000 });
    return records
      .map((record) => record.event as unknown as DecisionEvent)
      .filter((event) => event.process?.cmd_line === command && event.policy?.uid);
  }

  let firstBundle = '';

  it("the demo workspace starts on the canary release: its supervisor attests the channel's bundle", async () => {
    const canary = plane.releases.repository.status('canary');
    assert.equal(canary.targetsVersion, 1, 'the reconciler released once');
    const target = canary.targets.find((entry) => entry.name === 'coding-agent');
    assert.ok(target, 'coding-agent (alice’s blueprint) is released');
    assert.match(target.commit, /^sha256:[0-9a-f]{64}$/, 'a plain directory is released as its content hash');
    const status = (await waitFor('ws-alice attests the release', async () => {
      const current = await attestation();
      return current?.drift === 'in-sync' ? current : undefined;
    })) as WorkspacePolicyStatus;
    assert.equal(status.attestation.state, 'applied');
    assert.equal(status.attestation.channel, 'canary');
    assert.equal(status.attestation.blueprint, 'coding-agent');
    assert.equal(status.attestation.bundle?.id, target.bundleId);
    assert.equal(status.attestation.bundle?.version, target.bundleVersion);
    assert.equal(status.attestation.bundle?.hash, target.sha256);
    assert.equal(status.attestation.release, 1);
    firstBundle = target.bundleId;

    // The release is an audited event naming the commit and who approved it.
    const released = (await plane.store.readAuditEvents({ source: 'controlplane', limit: 100_000 }))
      .map(
        (record) =>
          record.event as {
            metadata: { event_code: string };
            unmapped?: { paddock?: Record<string, string> };
          },
      )
      .filter((event) => event.metadata.event_code === 'policy.released');
    assert.ok(released.some((event) => event.unmapped?.paddock?.['commit'] === target.commit));
    assert.ok(
      released.every((event) => /\(paddock up\)$/.test(event.unmapped?.paddock?.['approved_by'] ?? '')),
    );

    // `paddock policy status` shows it in sync (exit 0: no workspace drifts).
    const cli = await runCli(['policy', 'status', '--data-dir', dataDir, '--json'], root);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const shown = JSON.parse(cli.stdout) as { workspaces: { workspaceId: string; drift: string }[] };
    assert.equal(shown.workspaces.find((each) => each.workspaceId === WS)?.drift, 'in-sync');
  });

  it('a Cedar policy added to the directory is released, applied within seconds, and changes a decision', async () => {
    const { terminal, run } = await shell('gitops-e2e');
    assert.match(await run('/etc/paddock-try git log --oneline'), /\rallowed\r\n/);
    const before = await waitFor('the allowed decision in the store', async () => {
      const events = await decisionsOf('git log --oneline');
      return events.length > 0 ? events : undefined;
    });
    assert.equal(before.at(-1)?.policy?.uid, firstBundle, 'the first decision names the first release');

    writeFileSync(
      join(configDir, 'policies', 'no-history-browsing.cedar'),
      `@id("no-history-browsing")
@reason("history_browsing_forbidden")
forbid (principal, action == Action::"exec", resource)
when { context.program == "git" && context.args.contains("log") };
`,
    );
    const changedAt = Date.now();
    const applied = (await waitFor('ws-alice applies the new release', async () => {
      const current = await attestation();
      return current?.attestation.release === 2 && current.drift === 'in-sync' ? current : undefined;
    })) as WorkspacePolicyStatus;
    const seconds = (Date.now() - changedAt) / 1000;
    assert.ok(seconds < 15, `applied ${seconds} s after the change`);
    const target = plane.releases.repository
      .status('canary')
      .targets.find((entry) => entry.name === 'coding-agent');
    assert.ok(target);
    assert.notEqual(target.bundleId, firstBundle, 'a new policy makes a new bundle');
    assert.equal(applied.attestation.bundle?.id, target.bundleId);
    assert.equal(applied.attestation.bundle?.hash, target.sha256);

    // The same terminal, the same command: now denied by the new policy, in the new bundle's name.
    assert.match(await run('/etc/paddock-try git log --oneline'), /\rdenied: [^\r]*\r\n/);
    terminal.close();
    const after = await waitFor('the denied decision in the store', async () => {
      const events = await decisionsOf('git log --oneline');
      return events.some((event) => event.policy?.uid === target.bundleId) ? events : undefined;
    });
    const denied = after.filter((event) => event.policy?.uid === target.bundleId);
    assert.ok(denied.length >= 1);
    for (const event of denied) assert.notEqual(event.disposition_id, 1, 'not allowed under the new bundle');
  });

  it('an invalid change is never released: the bundle in force stays', async () => {
    const before = plane.releases.repository.status('canary');
    // Cedar that does not parse: the directory no longer validates.
    writeFileSync(join(configDir, 'policies', 'broken.cedar'), 'forbid (principal, action, resource) when {');
    await new Promise((done) => setTimeout(done, 2_000)); // several reconcile rounds (300 ms each)
    const after = plane.releases.repository.status('canary');
    assert.equal(after.targetsVersion, before.targetsVersion, 'nothing released');
    assert.equal((await attestation())?.attestation.release, before.targetsVersion);
    assert.equal((await attestation())?.drift, 'in-sync');
    const { terminal, run } = await shell('gitops-invalid');
    assert.match(
      await run('/etc/paddock-try git log --oneline'),
      /\rdenied: [^\r]*\r\n/,
      'still the last release',
    );
    assert.equal(await plane.store.openReconcileApply(), undefined, 'no apply is left open on it');

    // Fixed, and the policy removed: the next save is released and applied; the command is allowed again.
    rmSync(join(configDir, 'policies', 'broken.cedar'));
    rmSync(join(configDir, 'policies', 'no-history-browsing.cedar'));
    await waitFor('ws-alice applies the release after the fix', async () => {
      const current = await attestation();
      return current && current.attestation.release > before.targetsVersion && current.drift === 'in-sync'
        ? current
        : undefined;
    });
    assert.equal(
      plane.releases.repository.status('canary').targets.find((entry) => entry.name === 'coding-agent')
        ?.bundleId,
      firstBundle,
      'the same content compiles to the same bundle as the first release',
    );
    assert.match(await run('/etc/paddock-try git log --oneline'), /\rallowed\r\n/);
    terminal.close();
  });
});

describe('paddock up: a workspace following a channel that needs two signers', () => {
  const root = mkdtempSync('/tmp/paddock-gitops-stable-');
  const dataDir = join(root, 'data');
  const configDir = join(root, 'desired-state');
  let plane: LocalControlPlane;

  before(async () => {
    chmodSync(root, 0o711);
    cpSync(EXAMPLES, configDir, { recursive: true });
    const profile = join(configDir, 'profiles', 'standard-local.yaml');
    writeFileSync(
      profile,
      readFileSync(profile, 'utf8').replace('releaseChannel: canary', 'releaseChannel: stable'),
    );
    const { state } = await requireValidRepository(configDir);
    plane = await startLocalControlPlane({ state, configDir, dataDir, port: 0, startDemoWorkspace: false });
  });
  after(async () => {
    await plane?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('its first release is promoted from canary signed once, left pending; a co-signature publishes the same hashes', async () => {
    const stable = plane.releases.repository.status('stable');
    assert.equal(stable.targetsVersion, 0, 'nothing is published on one signature');
    assert.deepEqual(
      stable.pending && { signatures: stable.pending.signatures, needed: stable.pending.needed },
      { signatures: 1, needed: 2 },
    );
    // Never the same key twice: the first signer's signature does not count again.
    const sameKey = await runCli(
      [
        'policy',
        'cosign',
        '--channel',
        'stable',
        '--sign-with',
        join(dataDir, 'releases', 'keys', 'stable', 'signer-1.pem'),
        '--data-dir',
        dataDir,
      ],
      root,
    );
    assert.equal(sameKey.code, 0, sameKey.stderr);
    assert.equal(plane.releases.repository.status('stable').targetsVersion, 0);
    const cosign = await runCli(
      [
        'policy',
        'cosign',
        '--channel',
        'stable',
        '--sign-with',
        join(dataDir, 'releases', 'keys', 'stable', 'signer-2.pem'),
        '--data-dir',
        dataDir,
      ],
      root,
    );
    assert.equal(cosign.code, 0, cosign.stdout + cosign.stderr);
    const published = plane.releases.repository.status('stable');
    assert.equal(published.targetsVersion, 1);
    assert.deepEqual(
      published.targets.map((target) => target.sha256),
      plane.releases.repository.status('canary').targets.map((target) => target.sha256),
      'promotion re-signs the same bundles',
    );
  });

  it("the workspace's supervisor is told to follow stable, anchored on stable's root", async () => {
    await plane.lifecycle.start(ALICE, WS);
    const config = JSON.parse(readFileSync(join(dataDir, 'workspaces', WS, 'supervisor.json'), 'utf8')) as {
      releases?: { channel: string; rootFile: string; stateDir: string };
    };
    assert.equal(config.releases?.channel, 'stable');
    assert.deepEqual(
      readFileSync(config.releases?.rootFile as string),
      Buffer.from(plane.releases.repository.trustedRoot('stable')),
    );
    const status = await waitFor('ws-alice attests the stable release', async () => {
      const current = (await plane.releases.endpoint.workspaces()).find((each) => each.workspaceId === WS);
      return current?.drift === 'in-sync' ? current : undefined;
    });
    assert.equal(status.attestation.channel, 'stable');
    assert.equal(status.attestation.state, 'applied');
  });
});
