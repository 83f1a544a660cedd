import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import { loadRepository, resolveBlueprint } from '../../../src/config/index.ts';
import { runStandalone } from '../../../src/supervisor/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { type Attack, outcome } from '../attack.ts';

// Review gates open a new boundary: a person's approval lets a held call through. The agent
// must not be able to give that approval itself. Each attack runs a real `paddock run`
// (runStandalone with the run's review queue, as the CLI wires it); the agent first gets a
// write held through the PDP socket, then tries to approve it, and the attack is blocked only
// when the review is still pending afterwards and the identical call is still held.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'reviews',
  expected: 'blocked',
  run,
});

const BLUEPRINT = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: redteam-reviews, version: 1.0.0, owner: sec@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Review gate attacks.
  services:
    - name: api
      hosts: [api.example.test]
      access: read-write
  writes:
    - { service: api, methods: [POST], paths: ["/repos/*/*/pulls"], review: required }
  reviewGates: { reviewers: ["group:appsec"], minApprovals: 1, timeout: 1h }
  dataScope: { read: [/workspace], write: [], deny: [] }
`;

/** Python run by the agent: hold the write, run `attempt`, ask again; prints the three answers' decisions. */
const agent = (attempt: string) => `
import glob, json, os, socket
def line(path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
    s.sendall((json.dumps(request) + "\\n").encode())
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        out += chunk
    return out.decode(errors="replace")
WRITE = {"id": 1, "action": "http_request", "method": "POST", "url": "https://api.example.test/repos/acme/widgets/pulls"}
first = json.loads(line("/run/paddock/pdp.sock", WRITE).splitlines()[0])
review = (first.get("review") or {}).get("reviewId", "")
print("HELD", first.get("decision"), review)
${attempt}
again = json.loads(line("/run/paddock/pdp.sock", WRITE).splitlines()[0])
print("AGAIN", again.get("decision"))
`;

/** Runs the agent under a review-gated blueprint; blocked when its write is still held for a person. */
async function againstReviews(
  attempt: (reviewSocket: string) => string,
): Promise<ReturnType<typeof outcome>> {
  const config = makeWorkspace('pdk-rt-rv-cfg-');
  const workspace = makeWorkspace('pdk-rt-rv-ws-');
  let reviews: StandaloneReviews | undefined;
  try {
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'review.yaml'), BLUEPRINT);
    const loaded = await loadRepository(config.dir);
    const resolved = resolveBlueprint(loaded.state, 'redteam-reviews');
    // The run's own review socket, where `paddock run` puts it (under /run/paddock/reviews).
    reviews = await startStandaloneReviews({
      requester: { id: 'ada' },
      audit: async () => {},
      groupsOf: async () => ['appsec'],
    });
    let output = '';
    await runStandalone({
      command: ['/usr/bin/python3', '-c', agent(attempt(reviews.socketPath))],
      workdir: workspace.dir,
      dataScope: { read: ['/workspace'], write: [], deny: [] },
      resolved,
      policies: loaded.state.policies,
      hostEnv: {},
      user: 'ada',
      reviewGate: reviews.gate,
      workspaceId: reviews.workspaceId,
      hookHarnesses: [],
      stdio: ['ignore', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      },
    });
    const id = /^HELD review (rv-[0-9a-f]+)$/m.exec(output)?.[1];
    if (!id) return outcome(false, `the write was never held, so nothing was tested: ${output}`);
    const status = (await reviews.queue.show(id)).status;
    const again = /^AGAIN (\w+)$/m.exec(output)?.[1];
    const blocked = status === 'pending' && again === 'review';
    return outcome(blocked, `review ${status}, retried call answered ${again ?? '?'}: ${output}`);
  } finally {
    await reviews?.close();
    workspace.remove();
    config.remove();
  }
}

const APPROVE = (id: string) =>
  `{"op": "approve", "id": ${id}, "reason": "lgtm", "login": "bob", "as": "bob"}`;

export const attacks: Attack[] = [
  attack(
    'reviews.self-approve-socket',
    "approve its own held write through the run's review socket (host path given)",
    () =>
      againstReviews(
        (path) => `
for target in [${JSON.stringify(path)}] + glob.glob("/run/paddock/reviews/*/review.sock") + glob.glob("/run/paddock/reviews/review.sock"):
    try:
        print("SOCKET", target, line(target, json.loads(${JSON.stringify(APPROVE('"ID"'))}.replace('"ID"', json.dumps(review))))[:200])
    except Exception as error:
        print("SOCKET", target, type(error).__name__, error)
`,
      ),
  ),
  attack(
    'reviews.forge-via-pdp-socket',
    'send a review approval as a request on the PDP socket it can reach',
    () =>
      againstReviews(
        () => `
forged = json.loads(${JSON.stringify(APPROVE('"ID"'))}.replace('"ID"', json.dumps(review)))
for request in [forged, dict(forged, action="approve"), {"id": 2, "action": "review", "op": "approve", "review": review}]:
    try:
        print("PDP", line("/run/paddock/pdp.sock", request)[:200])
    except Exception as error:
        print("PDP", type(error).__name__, error)
`,
      ),
  ),
];
