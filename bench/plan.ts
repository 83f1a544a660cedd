// Reconciler plan at scale: a desired-state repository with 20 blueprints and 20 group
// assignments, a store with 10,000 users and their workspaces (SQLite), and the reconciler's
// marks as a previous apply left them, with drift: 500 workspaces to rebuild (changed profile),
// 500 users unassigned (revoke), 500 users without a workspace (create), 3 blueprints changed.
//   plan      directorySource + planSource: digest the files, load and validate the repository
//             (every blueprint resolved), read users, workspaces and marks, compute the plan
//   peer      requireValidRepository alone (what `paddock validate` does): the ratio is what the
//             plan costs on top of validating the same commit
//   compute   computePlan alone (inputs already in memory)
// Target: plan under 5 s. Results: bench/results/plan.json.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { requireValidRepository } from '../src/config/index.ts';
import { openStore } from '../src/controlplane/index.ts';
import {
  blueprintContentDigest,
  computePlan,
  directorySource,
  planSource,
  profileDigest,
  workspaceIdFor,
} from '../src/controlplane/reconciler/index.ts';

const USERS = Number(process.env.PADDOCK_BENCH_USERS ?? 10_000);
const BLUEPRINTS = 20;
const RUNS = 5;
const TARGET_MS = 5000;
const EXAMPLES = fileURLToPath(new URL('../examples/platform/', import.meta.url));
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'paddock-bench-plan-'));
const repo = join(work, 'repo');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

function writeRepository(): string[] {
  cpSync(EXAMPLES, repo, { recursive: true });
  for (const name of ['large-kubevirt', 'analyst-azure']) rmSync(join(repo, 'profiles', `${name}.yaml`));
  const template = readFileSync(join(repo, 'blueprints', 'docs-research.yaml'), 'utf8');
  const names = [
    'code-review',
    'coding-agent',
    'coding-base',
    'data-analysis',
    'docs-research',
    'ticket-triage',
  ];
  for (let i = names.length; i < BLUEPRINTS; i++) {
    const name = `research-${String(i).padStart(2, '0')}`;
    writeFileSync(
      join(repo, 'blueprints', `${name}.yaml`),
      template.replace('name: docs-research', `name: ${name}`),
    );
    names.push(name);
  }
  const lines = ['apiVersion: paddock.dev/v1', 'kind: Assignments', 'spec:', '  assignments:'];
  for (let g = 0; g < BLUEPRINTS; g++) {
    lines.push(
      `    - groups: [group-${g}]`,
      '      profile: standard-local',
      `      blueprints: [${names[g]}]`,
    );
  }
  writeFileSync(join(repo, 'assignments.yaml'), `${lines.join('\n')}\n`);
  return names;
}

async function writeStore(url: string, names: string[]): Promise<void> {
  const store = await openStore({ url });
  const { state, blueprints } = await requireValidRepository(repo);
  await store.close();
  const db = new DatabaseSync(url.slice('sqlite:'.length));
  const digest = profileDigest(state, 'standard-local');
  const now = Date.now();
  db.exec('BEGIN');
  const user = db.prepare(
    'INSERT INTO users (id, display_name, groups, disabled, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
  );
  const workspace = db.prepare(
    "INSERT INTO workspaces (id, owner, profile, provider, state, state_version, created_at, updated_at) VALUES (?, ?, 'standard-local', 'local', 'stopped', 1, ?, ?)",
  );
  const mark = db.prepare(
    "INSERT INTO reconcile_marks (kind, name, hash, detail, commit_sha, updated_at) VALUES (?, ?, ?, '', 'c0', ?)",
  );
  for (let i = 0; i < USERS; i++) {
    const id = `user${String(i).padStart(5, '0')}@example.com`;
    // The last 500 users are in no assigned group (revoke); 500 before them get no workspace (create).
    const group = i >= USERS - 500 ? 'contractors' : `group-${i % BLUEPRINTS}`;
    user.run(id, `User ${i}`, JSON.stringify([group, 'everyone']), now, now);
    if (i >= USERS - 1000 && i < USERS - 500) continue;
    const wsId = workspaceIdFor(id, 'standard-local');
    workspace.run(wsId, id, now, now);
    // 500 workspaces were built from an older profile (rebuild).
    mark.run('workspace', wsId, i < 500 ? 'stale' : digest, now);
  }
  for (const [index, name] of names.entries()) {
    // Three blueprints changed since their last release.
    mark.run('bundle', name, index < 3 ? 'old' : blueprintContentDigest(state, blueprints.get(name)!), now);
  }
  db.exec('COMMIT');
  db.close();
}

try {
  const names = writeRepository();
  mkdirSync(join(work, 'data'));
  const url = `sqlite:${join(work, 'data', 'controlplane.db')}`;
  await writeStore(url, names);
  const store = await openStore({ url });
  let summary: unknown;
  const planSamples = await time(async () => {
    summary = (await planSource(await directorySource(repo), store)).plan.summary;
  });
  const peerSamples = await time(() => requireValidRepository(repo));
  const { state, blueprints } = await requireValidRepository(repo);
  const [users, workspaces, marks] = await Promise.all([
    store.listUsers(),
    store.listWorkspaces(),
    store.listReconcileMarks(),
  ]);
  const computeSamples = await time(async () =>
    computePlan({ commit: 'c', state, blueprints, users, workspaces, marks }),
  );
  await store.close();
  const plan = median(planSamples);
  const peer = median(peerSamples);
  const compute = median(computeSamples);
  const result = {
    users: USERS,
    blueprints: blueprints.size,
    workspaces: workspaces.length,
    summary,
    planMs: Math.round(plan),
    peerValidateMs: Math.round(peer),
    computeMs: Math.round(compute),
    ratioPlanToValidate: Number((plan / peer).toFixed(2)),
    targetMs: TARGET_MS,
    met: plan < TARGET_MS,
    runs: RUNS,
  };
  process.stdout.write(
    `plan of ${USERS} users, ${blueprints.size} blueprints: ${result.planMs} ms (median of ${RUNS}; target < ${TARGET_MS} ms: ${result.met ? 'met' : 'MISSED'})\n` +
      `  peer (load + validate the same commit): ${result.peerValidateMs} ms; plan/validate = ${result.ratioPlanToValidate}x\n` +
      `  computePlan alone: ${result.computeMs} ms; plan: ${JSON.stringify(summary)}\n`,
  );
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'plan.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
