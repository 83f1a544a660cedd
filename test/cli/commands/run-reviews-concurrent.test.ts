// Two `paddock run`s with review gates at once, end to end: two REAL sandboxes, each with its own
// review queue and socket (startStandaloneReviews as the CLI calls it), each agent holding a
// write through its PDP socket. `paddock review` without --socket lists both and approves each
// in its own run; each agent's identical retry is then allowed once, in its run only.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import { loadRepository, resolveBlueprint } from '../../../src/config/index.ts';
import { runStandalone } from '../../../src/supervisor/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { runCli } from './run-cli.ts';

const BLUEPRINT = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: review-concurrent, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Two reviewed runs at once.
  services:
    - name: api
      hosts: [api.example.test]
      access: read-write
  writes:
    - { service: api, methods: [POST], paths: ["/repos/*/*/pulls"], review: required }
  reviewGates: { reviewers: ["group:appsec"], minApprovals: 1, timeout: 1h }
  dataScope: { read: [/workspace], write: [], deny: [] }
`;

/** The agent: hold its write, wait for the host's go (a file), ask again. */
const agent = (repo: string) => `
import json, os, socket, time
def ask():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("/run/paddock/pdp.sock")
    s.sendall((json.dumps({"id": 1, "action": "http_request", "method": "POST", "url": "https://api.example.test/repos/${repo}/pulls"}) + "\\n").encode())
    out = b""
    while not out.endswith(b"\\n"):
        out += s.recv(65536)
    s.close()
    answer = json.loads(out)
    print(answer["decision"], answer["reason"], (answer.get("review") or {}).get("reviewId", ""), flush=True)
ask()
for _ in range(300):
    if os.path.exists("/workspace/go"): break
    time.sleep(0.1)
ask()
`;

describe('paddock run: two concurrent reviewed runs, each with its own review socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-run-reviews-2-'));
  const socketsDir = join(dir, 'reviews');
  const env = { PADDOCK_REVIEW_DIR: socketsDir, SUDO_USER: 'bob' };
  const config = makeWorkspace('pdk-run-reviews-2-cfg-');
  const workspaces = [makeWorkspace('pdk-run-reviews-2a-'), makeWorkspace('pdk-run-reviews-2b-')];
  const outputs = ['', ''];
  const exitCodes = [-1, -1];
  let runs: StandaloneReviews[] = [];
  let listed: { id: string; resource: string }[] = [];
  const approvals: { code: number; stderr: string }[] = [];

  before(async () => {
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'review.yaml'), BLUEPRINT);
    const loaded = await loadRepository(config.dir);
    const resolved = resolveBlueprint(loaded.state, 'review-concurrent');
    const groupsOf = async (account: string) => (account === 'bob' ? ['appsec'] : []);
    runs = await Promise.all(
      ['ada', 'cy'].map((user) =>
        startStandaloneReviews({ requester: { id: user }, audit: async () => {}, socketsDir, groupsOf }),
      ),
    );
    const sandboxes = runs.map((reviews, index) =>
      runStandalone({
        command: ['/usr/bin/python3', '-c', agent(index === 0 ? 'acme/widgets' : 'acme/gadgets')],
        workdir: workspaces[index]!.dir,
        dataScope: { read: ['/workspace'], write: [], deny: [] },
        resolved,
        policies: loaded.state.policies,
        hostEnv: {},
        user: reviews.requester.id,
        reviewGate: reviews.gate,
        workspaceId: reviews.workspaceId,
        hookHarnesses: [],
        stdio: ['ignore', 'pipe', 'pipe'],
        onStarted: (sandbox) => {
          const collect = (chunk: Buffer) => {
            outputs[index] += chunk.toString();
          };
          sandbox.child.stdout?.on('data', collect);
          sandbox.child.stderr?.on('data', collect);
        },
      }).then((result) => {
        exitCodes[index] = result.exitCode;
      }),
    );
    // The reviewer, outside both sandboxes: once both writes are held, list and approve each.
    for (let i = 0; i < 300; i++) {
      const pending = await Promise.all(runs.map((reviews) => reviews.queue.list({ status: 'pending' })));
      if (pending.every((views) => views.length === 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const list = await runCli(['review', 'list', '--status', 'pending', '--json'], dir, env);
    assert.equal(list.code, 0, list.stderr);
    listed = JSON.parse(list.stdout);
    for (const view of listed)
      approvals.push(await runCli(['review', 'approve', view.id, '--reason', 'ok'], dir, env));
    for (const workspace of workspaces) writeFileSync(join(workspace.dir, 'go'), '');
    await Promise.all(sandboxes);
  });

  after(async () => {
    for (const reviews of runs) await reviews.close();
    for (const workspace of workspaces) workspace.remove();
    config.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the two runs on two sockets', () => {
    assert.equal(runs.length, 2);
    assert.notEqual(runs[0]!.socketPath, runs[1]!.socketPath);
  });

  it('lists both runs held writes in one paddock review list', () => {
    assert.deepEqual(
      listed.map((view) => view.resource).sort(),
      [
        'POST https://api.example.test/repos/acme/gadgets/pulls',
        'POST https://api.example.test/repos/acme/widgets/pulls',
      ].sort(),
      JSON.stringify(listed),
    );
  });

  it('approves each in its own run, and each agent retry is allowed there', async () => {
    assert.deepEqual(
      approvals.map((approval) => approval.code),
      [0, 0],
      JSON.stringify(approvals),
    );
    for (const [index, output] of outputs.entries()) {
      assert.equal(exitCodes[index], 0, output);
      const [held, retried] = output.trim().split('\n');
      const id = held?.split(' ')[2];
      assert.match(held ?? '', /^review review_pending rv-[0-9a-f]{16}$/, output);
      assert.match(retried ?? '', /^allow review_approved /, output);
      assert.equal((await runs[index]!.queue.show(id!)).status, 'approved');
    }
  });
});
