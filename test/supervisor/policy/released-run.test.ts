// Issue 8, item 3: "every decision event carries the bundle that made it", in a REAL sandbox.
// A run follows a workspace's PolicyHolder: deny-all before any release, then release A, then
// release B, applied while the sandbox runs. The PDP socket's answers, the egress gateway's
// verdicts and every event name the bundle in force at that moment.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { loadRepository, resolveBlueprint } from '../../../src/config/index.ts';
import { runStandalone, staticResolver } from '../../../src/supervisor/index.ts';
import { BundleUpdater, PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import {
  commitAll,
  EXAMPLES,
  git,
  releaseCommit,
  releaseRepository,
  repositoryFetch,
  tempDir,
} from '../../support/releases.ts';
import { startUpstream, UPSTREAM_CA, type Upstream } from '../egress-fixtures.ts';
import { sections } from '../egress-sandbox-support.ts';

const NODE_DIR = dirname(dirname(process.execPath));

const blueprint = (port: number, variant: 'a' | 'b') => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: released-e2e, version: ${variant === 'a' ? '1.0.0' : '1.1.0'}, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Released policy wiring test.
  tools:
    commands:
      allow: ["git *", "node *"]
      deny: [${variant === 'a' ? '"git push *"' : '"git push *", "git status"'}]
  services:${
    variant === 'a'
      ? `
    - name: api
      hosts: [api.example.test]
      ports: [${port}]
      access: read-only
      cidrs: [127.0.0.0/8]`
      : ' []'
  }
  dataScope: { read: [/workspace, ${NODE_DIR}], write: [/workspace], deny: [] }
`;

// Runs inside the sandbox: one exec decision from the PDP socket, printed as JSON.
const PDP_CLIENT = `
const net = require('node:net');
const socket = net.connect('/run/paddock/pdp.sock', () => {
  socket.write(JSON.stringify({ id: 1, action: 'exec', argv: ['git', 'status'] }) + '\\n');
});
let buffered = '';
socket.on('data', (chunk) => {
  buffered += chunk;
  if (buffered.includes('\\n')) { process.stdout.write(buffered); socket.end(); }
});
`;

describe('a run follows the released bundle in force (real sandbox)', () => {
  const temp = tempDir('paddock-released-run-');
  const workspace = makeWorkspace('pdk-released-ws-');
  let upstream: Upstream;
  const events: OcsfEvent[] = [];
  let output = '';
  let exitCode = -1;
  const ids: { a?: string; b?: string } = {};

  before(async () => {
    upstream = await startUpstream({ tls: true });
    const repoDir = join(temp.path, 'desired-state');
    mkdirSync(join(repoDir, 'blueprints'), { recursive: true });
    git(repoDir, 'init', '-q', '-b', 'main');
    copyFileSync(join(EXAMPLES, 'paddock.yaml'), join(repoDir, 'paddock.yaml'));
    writeFileSync(join(repoDir, 'blueprints', 'released-e2e.yaml'), blueprint(upstream.port, 'a'));
    const commitA = commitAll(repoDir, 'release A');
    writeFileSync(join(repoDir, 'blueprints', 'released-e2e.yaml'), blueprint(upstream.port, 'b'));
    const commitB = commitAll(repoDir, 'release B');

    const repository = await releaseRepository(join(temp.path, 'releases'));
    const holder = new PolicyHolder();
    const updater = new BundleUpdater({
      stateDir: join(temp.path, 'supervisor'),
      channel: 'canary',
      blueprint: 'released-e2e',
      initialRoot: repository.trustedRoot('canary'),
      fetch: repositoryFetch(repository, 'canary'),
      holder,
    });
    await updater.start(); // nothing released: deny-all

    writeFileSync(join(workspace.dir, 'pdp-client.js'), PDP_CLIENT);
    const loaded = await loadRepository(repoDir);
    const resolved = resolveBlueprint(loaded.state, 'released-e2e');
    const phase = (n: number) =>
      [
        `echo "=== phase${n}"`,
        'node pdp-client.js',
        `curl -sS --max-time 10 -o /dev/null -w "http=%{http_code}" https://api.example.test:${upstream.port}/quiet/repos/a/b; echo " rc=$?"`,
        `touch /workspace/ready${n}`,
        // Bounded: a failing driver must not leave the sandbox waiting forever.
        `i=0; while [ ! -e /workspace/go${n} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`,
      ].join('\n');
    const script = [phase(0), phase(1), phase(2)].join('\n');
    const waitFor = async (name: string) => {
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(workspace.dir, name))) {
        if (Date.now() > deadline) throw new Error(`the sandbox never wrote ${name}: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    let driverError: unknown;
    const driver = (async () => {
      await waitFor('ready0');
      await releaseCommit(repository, repoDir, commitA, 'canary');
      assert.equal((await updater.update()).result, 'applied');
      ids.a = holder.current.ref.id;
      writeFileSync(join(workspace.dir, 'go0'), '');
      await waitFor('ready1');
      await releaseCommit(repository, repoDir, commitB, 'canary');
      assert.equal((await updater.update()).result, 'applied');
      ids.b = holder.current.ref.id;
      writeFileSync(join(workspace.dir, 'go1'), '');
      await waitFor('ready2');
      writeFileSync(join(workspace.dir, 'go2'), '');
    })().catch((error: unknown) => {
      driverError = error;
      for (const n of [0, 1, 2]) writeFileSync(join(workspace.dir, `go${n}`), '');
    });
    const result = await runStandalone({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: resolved.blueprint.spec.dataScope!,
      resolved,
      appliedPolicy: holder,
      hookHarnesses: [],
      resolver: staticResolver({ 'api.example.test': ['127.0.0.1'] }),
      upstreamTls: { ca: UPSTREAM_CA.certPem },
      hostEnv: {},
      stdio: ['ignore', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      },
      audit: async (event) => {
        events.push(event);
      },
    });
    await driver;
    if (driverError) throw driverError;
    exitCode = result.exitCode;
  });

  after(async () => {
    await upstream?.close();
    workspace.remove();
    temp.cleanup();
  });

  const answer = (phase: string) => {
    const text = sections(output)[phase] ?? '';
    const line = text.split('\n').find((entry) => entry.startsWith('{'));
    assert.ok(line, `no PDP answer in ${phase}: ${output}`);
    return JSON.parse(line) as { decision: string; bundle: { id: string; version: string } };
  };

  it('runs to completion', () => {
    assert.equal(exitCode, 0, output);
    assert.match(ids.a ?? '', /^released-e2e:[0-9a-f]{16}$/);
    assert.notEqual(ids.a, ids.b);
  });

  it('before any release: the PDP and the gateway deny, naming deny-all', () => {
    const pdp = answer('phase0');
    assert.equal(pdp.decision, 'deny');
    assert.deepEqual(pdp.bundle, { id: 'deny-all', version: '0' });
    assert.doesNotMatch(sections(output)['phase0'] ?? '', /http=200/);
  });

  it('release A applied mid-run: allowed under A, and named A', () => {
    const pdp = answer('phase1');
    assert.equal(pdp.decision, 'allow');
    assert.deepEqual(pdp.bundle, { id: ids.a, version: '1.0.0' });
    assert.match(sections(output)['phase1'] ?? '', /http=200 rc=0/);
  });

  it('release B applied mid-run: the same requests now denied, named B', () => {
    const pdp = answer('phase2');
    assert.equal(pdp.decision, 'deny');
    assert.deepEqual(pdp.bundle, { id: ids.b, version: '1.1.0' });
    assert.doesNotMatch(sections(output)['phase2'] ?? '', /http=200/);
  });

  it('every decision event names the bundle in force when it was made', () => {
    const named = (id: string) => events.filter((event) => JSON.stringify(event).includes(`"${id}"`));
    const classes = (list: OcsfEvent[]) =>
      new Set(list.map((event) => (event as { class_uid?: number }).class_uid));
    assert.ok(classes(named('deny-all')).has(1007), 'an exec decision under deny-all');
    assert.ok(classes(named(ids.a!)).has(1007), 'an exec decision under A');
    assert.ok(
      classes(named(ids.a!)).has(4002) || classes(named(ids.a!)).has(4001),
      'a gateway decision under A',
    );
    assert.ok(classes(named(ids.b!)).has(1007), 'an exec decision under B');
    const allowedUnderB = named(ids.b!).filter(
      (event) =>
        JSON.stringify(event).includes('"git status"') && /"allow"|Allowed/.test(JSON.stringify(event)),
    );
    assert.deepEqual(allowedUnderB, [], 'nothing B denies is recorded as allowed by B');
  });
});
