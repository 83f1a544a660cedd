import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { WebSocket } from 'ws';
import { ReviewQueue } from '../../../src/controlplane/reviews/queue.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';
import { bearer, loginToken } from '../http/harness.ts';
import {
  type StandInApiServer,
  startStandInApiServer,
} from '../../providers/kubevirt/stand-in-api-server.ts';
import { heldCall } from '../review-queue-fixtures.ts';

// Two `paddock serve` processes (the real CLI, as the chart runs it) against one real
// PostgreSQL, their kubevirt provider pointed at the KubeVirt STAND-IN API server (a loopback
// HTTP server; no cluster runs here). Checked: both answer /healthz; exactly one leads and
// runs the reconciler; a review approved through replica B's API is what replica A's API
// shows (to the reviewer's session made through B), and A hears of it on LISTEN/NOTIFY; after kill -9 of the leader the other leads
// within 15 s and carries on reconciling, and no fenced step ran twice; a revoke through B
// halts the VM, deletes its identity and cuts the namespace's egress, and the new workspace
// the leader then provisions for the still-assigned owner leaves the revoked one halted.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../providers/kubevirt/fixtures/desired-state/', import.meta.url));
const SETTINGS = fileURLToPath(new URL('../../providers/kubevirt/fixtures/settings.yaml', import.meta.url));
const FAILOVER_LIMIT_MS = 15_000;

type Json = Record<string, unknown>;

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly origin: Promise<string>;
  /** Log lines (JSON) on stderr. */
  readonly logs: Json[];
  waitForLog(predicate: (line: Json) => boolean, timeoutMs?: number): Promise<Json>;
}

function startReplica(name: string, env: NodeJS.ProcessEnv, args: readonly string[]): Replica {
  const child = spawn(process.execPath, [PADDOCK, 'serve', '--json', '--replica', name, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Json[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  const origin = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        resolve(new URL((JSON.parse(stdout) as { url: string }).url).origin);
      } catch {
        // not the whole summary yet
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before serving: ${stdout}`)));
  });
  origin.catch(() => undefined);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Json);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  return {
    name,
    child,
    origin,
    logs,
    waitForLog(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: timed out; last logs: ${JSON.stringify(logs.slice(-8))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

// The reconciler's election (each replica also campaigns in the `audit` one).
const elected = (line: Json) => line['msg'] === 'elected leader' && line['election'] === 'reconciler';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('paddock serve: two replicas, one PostgreSQL, kubevirt through the stand-in API server', () => {
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let kube: StandInApiServer;
  let work: string;
  let configDir: string;
  let sessionKey: string;
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;

  const assignments = (users: readonly string[]) =>
    writeFileSync(
      join(configDir, 'assignments.yaml'),
      stringify({
        apiVersion: 'paddock.dev/v1',
        kind: 'Assignments',
        spec: { assignments: [{ users, profile: 'large-kubevirt', blueprints: ['docs-research'] }] },
      }),
    );
  const query = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  /** The owner of each VirtualMachine the stand-in API server holds (from its namespace's annotation). */
  const vmOwners = () =>
    [...kube.objects.values()]
      .filter((object) => object['kind'] === 'VirtualMachine')
      .map((object) => {
        const namespace = kube.get('v1', 'Namespace', String((object['metadata'] as Json)['namespace']));
        return (namespace?.['metadata'] as Json | undefined)?.['annotations'] as Record<string, string>;
      })
      .map((annotations) => annotations?.['paddock.dev/owner-email'])
      .sort();

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_serve');
    kube = await startStandInApiServer();
    work = mkdtempSync(join(tmpdir(), 'paddock-serve-'));
    configDir = join(work, 'desired-state');
    cpSync(FIXTURE, configDir, { recursive: true });
    // Only kubevirt profiles: `local` must not be built when no profile asks for it.
    rmSync(join(configDir, 'profiles', 'standard-local.yaml'));
    const platform = readFileSync(join(configDir, 'paddock.yaml'), 'utf8').replace(
      /demoUsers:[\s\S]*?\n {2}provider:/,
      'demoUsers:\n      - { email: lead@example.com, name: Lead Reviewer, groups: [appsec] }\n      - { email: erin@example.com, name: Erin Platform, groups: [] }\n  provider:',
    );
    writeFileSync(join(configDir, 'paddock.yaml'), platform);
    assignments(['erin@example.com', 'frank@example.com']);
    // The checkpoint signing key the chart mounts from a Secret: one for both replicas.
    const auditKey = join(work, 'checkpoint-key.pem');
    writeFileSync(
      auditKey,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      { mode: 0o600 },
    );
    // The session key the chart mounts from a Secret: one for both replicas.
    sessionKey = join(work, 'session-key');
    writeFileSync(sessionKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    // The policy release signing keys the chart mounts from a Secret: the same for both replicas.
    const releaseKeys = join(work, 'release-keys');
    mkdirSync(releaseKeys, { mode: 0o700 });
    for (const file of [
      'canary.online.pem',
      'canary.signer-1.pem',
      'stable.online.pem',
      'stable.signer-1.pem',
    ])
      writeFileSync(
        join(releaseKeys, file),
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
        { mode: 0o600 },
      );
    const kubeconfig = join(work, 'kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'stand-in', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'paddock', user: { token: kube.token } }],
        contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'paddock' } }],
        'current-context': 'stand-in',
      }),
    );
    const env = (name: string): NodeJS.ProcessEnv => ({
      ...process.env,
      PADDOCK_DATABASE_URL: url,
      PADDOCK_CONFIG: configDir,
      PADDOCK_DATA_DIR: join(work, name),
      KUBECONFIG: kubeconfig,
      PADDOCK_LOG: 'info',
    });
    const args = [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--kubevirt-settings',
      SETTINGS,
      '--approved-by',
      'platform-team@example.com',
      '--reconcile-interval',
      '200',
      '--election-retry',
      '200',
      '--audit-key',
      auditKey,
      '--session-key',
      sessionKey,
      '--release-keys',
      releaseKeys,
    ];
    a = startReplica('replica-a', env('a'), args);
    replicas.push(a);
    await a.origin;
    await a.waitForLog(elected);
    b = startReplica('replica-b', env('b'), args);
    replicas.push(b);
    await b.origin;
  });

  after(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
    await kube?.close();
    if (url) await dropDatabase(url);
    await server?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('SQLite is refused with a coded error before anything starts', async () => {
    const child = spawn(process.execPath, [PADDOCK, 'serve', '--port', '0'], {
      env: {
        ...process.env,
        PADDOCK_DATABASE_URL: `sqlite:${join(work, 'x.db')}`,
        PADDOCK_CONFIG: configDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /PDK_SERVE_DATABASE/);
  });

  it('both replicas answer /healthz; exactly one leads and it alone runs the reconciler (stand-in API server)', async () => {
    for (const replica of [a, b]) {
      const response = await fetch(`${await replica.origin}/healthz`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok' });
    }
    // The reconciler's creates reached the (stand-in) cluster: one VM per assigned user.
    await until('two VMs', async () => (vmOwners().length === 2 ? true : undefined));
    assert.deepEqual(vmOwners(), ['erin@example.com', 'frank@example.com']);
    assert.equal(b.logs.filter(elected).length, 0, 'one leader at a time');
    const runs = await query<{ holder: string; step: string }>(
      'SELECT holder, step FROM paddock_fenced_runs',
    );
    assert.ok(runs.every((run) => run.holder === 'replica-a'));
    assert.equal(runs.filter((run) => run.step.startsWith('create ')).length, 2);
    // The release step ran before the creates: the commit's bundles signed into the store's canary repository.
    assert.equal(runs.filter((run) => run.step.startsWith('release ')).length, 1);
    const released = await query<{ path: string }>(
      "SELECT path FROM release_metadata WHERE channel = 'canary' AND path IN ('timestamp.json', '1.targets.json')",
    );
    assert.equal(released.length, 2);
    // The local provider was not built: no profile asks for it.
    assert.ok(!a.logs.some((line) => line['provider'] === 'local'));
  });

  it('/channel on the API port reaches the channel server, which refuses a supervisor without a valid credential', async () => {
    const refusedWith = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const origin = a.origin.then((value) => value.replace(/^http/, 'ws'));
        void origin.then((base) => {
          const socket = new WebSocket(`${base}/channel`, { headers });
          socket.once('unexpected-response', (_request, response) => {
            resolve(response.statusCode ?? 0);
            socket.terminate();
          });
          socket.once('open', () => reject(new Error('the channel accepted the connection')));
          socket.once('error', () => undefined);
        });
      });
    assert.equal(await refusedWith({}), 401);
    assert.equal(await refusedWith({ authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.e30.AAAA' }), 401);
    // The forged credential was judged by the channel's verifier (not by the console's session check).
    await a.waitForLog((line) => line['msg'] === 'channel connection refused', 5000);
  });

  it('a replica without the session key is refused with a coded error before it serves', async () => {
    const child = spawn(
      process.execPath,
      // With the audit key, so the session key is what is missing.
      [
        PADDOCK,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--audit-key',
        join(work, 'checkpoint-key.pem'),
        '--session-key',
        join(work, 'no-such-key'),
      ],
      {
        env: { ...process.env, PADDOCK_DATABASE_URL: url, PADDOCK_CONFIG: configDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    assert.notEqual(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 0);
    assert.match(stderr, /PDK_AUTH_SESSION_KEY[\s\S]*no-such-key is missing/);
  });

  it('listening on every interface without a public URL is refused', async () => {
    const child = spawn(process.execPath, [PADDOCK, 'serve', '--port', '0'], {
      // As the chart renders it when publicUrl is left empty.
      env: { ...process.env, PADDOCK_DATABASE_URL: url, PADDOCK_CONFIG: configDir, PADDOCK_PUBLIC_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    assert.notEqual(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 0);
    assert.match(stderr, /PDK_CLI_USAGE[\s\S]*every interface \(0\.0\.0\.0\) needs --public-url/);
  });

  it('a review approved through replica B is what replica A shows, to the session made on B, and A hears of it on LISTEN/NOTIFY', async () => {
    // A call held in erin's workspace (the reconciler created it), as its supervisor would hold it.
    const [workspace] = await query<{ id: string }>(
      "SELECT id FROM workspaces WHERE owner = 'erin@example.com'",
    );
    assert.ok(workspace);
    const store = await openStore({ url });
    let reviewId: string;
    try {
      const queue = new ReviewQueue({ store, audit: async () => undefined });
      const answer = await queue.request(
        heldCall({
          workspaceId: workspace.id,
          requester: { id: 'erin@example.com' },
          gate: { reviewers: ['user:lead@example.com'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
        }),
      );
      assert.equal(answer.status, 'pending');
      reviewId = (answer as { reviewId: string }).reviewId;
    } finally {
      await store.close();
    }
    const token = await loginToken(await b.origin, 'lead@example.com');
    const approved = await fetch(`${await b.origin}/api/reviews/${reviewId}/approve`, {
      method: 'POST',
      headers: bearer(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ reason: 'checked on replica B' }),
    });
    assert.equal(approved.status, 200, await approved.clone().text());
    // The session made through B is in the shared store (its refresh token sealed with the
    // session key both replicas mount): A accepts it as it is.
    const shown = await fetch(`${await a.origin}/api/reviews/${reviewId}`, { headers: bearer(token) });
    assert.equal(shown.status, 200);
    const { review } = (await shown.json()) as { review: { status: string } };
    assert.equal(review.status, 'approved');
    const heard = await a.waitForLog(
      (line) =>
        line['msg'] === 'review changed on another replica' && String(line['review']).includes(reviewId),
      10_000,
    );
    assert.equal(heard['origin'], 'replica-b');
    assert.match(String(heard['review']), /"status":"approved"/);
  });

  it('kill -9 of the leader: the other leads within 15 s, carries on reconciling, and no fenced step ran twice', async () => {
    // Erin starts her workspace through replica A: its VM runs (runStrategy Always).
    const [erin] = await query<{ id: string }>("SELECT id FROM workspaces WHERE owner = 'erin@example.com'");
    assert.ok(erin);
    const erinToken = await loginToken(await a.origin, 'erin@example.com');
    const started = await fetch(`${await a.origin}/api/workspaces/${erin.id}/actions/start`, {
      method: 'POST',
      headers: bearer(erinToken, { 'content-type': 'application/json' }),
      body: '{}',
    });
    assert.equal(
      started.status,
      200,
      `${await started.clone().text()} ${JSON.stringify(a.logs.filter((line) => line['level'] === 'error'))}`,
    );
    const erinVm = () =>
      [...kube.objects.values()].find(
        (object) => object['kind'] === 'VirtualMachine' && (object['metadata'] as Json)['name'] === erin.id,
      );
    assert.equal((erinVm()?.['spec'] as Json | undefined)?.['runStrategy'], 'Always');
    const requestsBefore = kube.requests.length;

    const [before] = await query<{ term: string }>(
      "SELECT term FROM paddock_leader_terms WHERE election = 'reconciler'",
    );
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const won = await b.waitForLog(elected, FAILOVER_LIMIT_MS + 5000);
    const failoverMs = Date.parse(String(won['time'])) - killedAt;
    process.stdout.write(`# failover: replica-b elected ${failoverMs} ms after kill -9 of the leader\n`);
    assert.ok(failoverMs < FAILOVER_LIMIT_MS, `failover took ${failoverMs} ms`);
    assert.ok(Number(won['term']) > Number(before?.term));

    // A change to the desired state after the failover: the new leader applies it.
    assignments(['erin@example.com', 'frank@example.com', 'hank@example.com']);
    await until('a VM for hank', async () => (vmOwners().includes('hank@example.com') ? true : undefined));
    assert.deepEqual(vmOwners(), ['erin@example.com', 'frank@example.com', 'hank@example.com']);

    const runs = await query<{ term: string; holder: string; step: string }>(
      'SELECT term, holder, step FROM paddock_fenced_runs ORDER BY id',
    );
    const steps = runs.map((run) => run.step);
    assert.equal(new Set(steps).size, steps.length, `a fenced step ran twice: ${steps.join(', ')}`);
    assert.equal(runs.filter((run) => run.step.startsWith('create ')).length, 3);
    for (const run of runs)
      assert.equal(Number(run.term), run.holder === 'replica-b' ? Number(won['term']) : Number(before?.term));
    assert.equal(runs.at(-1)?.holder, 'replica-b');
    // The new leader resumed from what the cluster reports: erin's running VM was neither
    // re-applied nor restarted (no write touched her workspace's objects).
    const touched = kube.requests
      .slice(requestsBefore)
      .filter((request) => request.method !== 'GET' && request.path.includes(erin.id));
    assert.deepEqual(touched, []);
    assert.equal((erinVm()?.['spec'] as Json | undefined)?.['runStrategy'], 'Always');
    assert.ok(!b.logs.some((line) => line['msg'] === 'workspaces resumed'));
    const workspaces = await query<{ owner: string }>('SELECT owner FROM workspaces ORDER BY owner');
    assert.deepEqual(
      workspaces.map((row) => row.owner),
      ['erin@example.com', 'frank@example.com', 'hank@example.com'],
    );
  });

  it('a revoke through replica B (kill switch) halts the VM, cuts its egress, and is relayed on the channel topic', async () => {
    const [erin] = await query<{ id: string }>("SELECT id FROM workspaces WHERE owner = 'erin@example.com'");
    assert.ok(erin);
    // Listen as a third replica would: the relay must publish the revocation for the others.
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const relayed = new Promise<Json>((resolve) =>
      listener.on('notification', (message) => resolve(JSON.parse(message.payload ?? '{}') as Json)),
    );
    await listener.query('LISTEN paddock_channel');
    const requestsAtRevoke = kube.requests.length;
    try {
      const token = await loginToken(await b.origin, 'erin@example.com');
      const revoked = await fetch(`${await b.origin}/api/workspaces/${erin.id}/actions/revoke`, {
        method: 'POST',
        headers: bearer(token, { 'content-type': 'application/json' }),
        body: '{}',
      });
      assert.equal(revoked.status, 200, await revoked.clone().text());
      assert.deepEqual(await relayed, {
        origin: 'replica-b',
        body: { type: 'revoked', workspaceId: erin.id },
      });
    } finally {
      await listener.end();
    }
    const vm = [...kube.objects.values()].find(
      (object) => object['kind'] === 'VirtualMachine' && (object['metadata'] as Json)['name'] === erin.id,
    );
    assert.equal((vm?.['spec'] as Json | undefined)?.['runStrategy'], 'Halted');
    const namespace = String((vm?.['metadata'] as Json | undefined)?.['namespace']);
    assert.equal(kube.get('v1', 'Secret', `${erin.id}-identity`, namespace), undefined);
    // The revoke applied the namespace's NetworkPolicy with no egress (read from the requests:
    // the leader may already have provisioned erin's next workspace, which opens it again).
    const cut = kube.requests
      .slice(requestsAtRevoke)
      .find(
        (request) =>
          request.method === 'PATCH' &&
          request.path.endsWith(`/namespaces/${namespace}/networkpolicies/paddock-default-deny`) &&
          ((request.body as { spec?: { egress?: unknown[] } } | undefined)?.spec?.egress ?? []).length === 0,
      );
    assert.ok(cut, 'the revoke cut the namespace egress');

    // Erin is still assigned: the leader's next pass provisions her a new workspace in the same
    // namespace. The revoked one stays as the revoke left it.
    const replacement = await until('a new workspace for erin', async () => {
      const [row] = await query<{ id: string }>(
        "SELECT id FROM workspaces WHERE owner = 'erin@example.com' AND state <> 'revoked'",
      );
      return row && kube.get('kubevirt.io/v1', 'VirtualMachine', row.id, namespace) ? row.id : undefined;
    });
    assert.notEqual(replacement, erin.id);
    const revokedVm = kube.get('kubevirt.io/v1', 'VirtualMachine', erin.id, namespace);
    assert.equal((revokedVm?.['spec'] as Json | undefined)?.['runStrategy'], 'Halted');
    assert.equal(kube.get('v1', 'Secret', `${erin.id}-identity`, namespace), undefined);
    assert.ok(kube.get('v1', 'Secret', `${erin.id}-revoked`, namespace), 'its revocation marker');
  });

  it('SIGTERM: the replica gives up leadership and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => b.child.once('exit', resolve));
    b.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // The advisory lock is free again: a new campaigner would win at once.
      const { rows } = await client.query<{ held: string }>(
        "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND granted",
      );
      assert.equal(Number(rows[0]?.held), 0);
    } finally {
      await client.end();
    }
  });
});
