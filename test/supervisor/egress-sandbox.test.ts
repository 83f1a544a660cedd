// Issue 4: the egress gateway as a real sandbox's only way out. Real clients (curl, Node's
// fetch, Python's urllib, git) run INSIDE a sandbox on a real sandbox network whose four
// proxy ports the gateway owns; the upstreams are local test servers on the host.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGitServer, type GitServer } from './egress-git-server.ts';
import { makeSecretStore, startUpstream, type Upstream } from './egress-fixtures.ts';
import {
  DEAD_ADDRESS,
  type SandboxedGateway,
  sections,
  startSandboxedGateway,
} from './egress-sandbox-support.ts';

const CANARY = 'pdk-canary-sandbox-3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f';
const ORIGIN = '127.0.0.4';

describe('egress from inside a real sandbox', () => {
  let https: Upstream;
  let http: Upstream;
  let web80: Upstream;
  let web443: Upstream;
  let gitServer: GitServer;
  let secrets: Awaited<ReturnType<typeof makeSecretStore>>;
  let box: SandboxedGateway;
  let placeholder: string;
  const outputs: string[] = [];

  before(async () => {
    https = await startUpstream({ tls: true });
    http = await startUpstream();
    web80 = await startUpstream({ host: ORIGIN, port: 80 });
    web443 = await startUpstream({ host: ORIGIN, port: 443, tls: true });
    gitServer = await startGitServer({ token: CANARY });
    secrets = await makeSecretStore({ 'gh-token': CANARY });
    const loopback = ['127.0.0.0/8'];
    box = await startSandboxedGateway({
      services: [
        {
          name: 'api',
          hosts: ['api.example.test'],
          ports: [https.port],
          access: 'read-only',
          cidrs: loopback,
        },
        { name: 'plain', hosts: ['plain.example.test'], ports: [http.port], cidrs: loopback },
        { name: 'web', hosts: ['web.example.test'], ports: [80, 443], access: 'read-only', cidrs: loopback },
        {
          name: 'git',
          hosts: ['git.example.test'],
          ports: [gitServer.port],
          credential: 'gh-token',
          cidrs: loopback,
        },
        {
          name: 'github',
          hosts: ['api.github.test'],
          ports: [https.port],
          credential: 'gh-token',
          cidrs: loopback,
        },
        {
          name: 'elsewhere',
          hosts: ['elsewhere.example.test'],
          ports: [https.port],
          access: 'full',
          cidrs: loopback,
        },
      ],
      names: {
        'api.example.test': ['127.0.0.1'],
        'plain.example.test': ['127.0.0.1'],
        'web.example.test': [ORIGIN],
        'git.example.test': ['127.0.0.1'],
        'api.github.test': ['127.0.0.1'],
        'elsewhere.example.test': ['127.0.0.1'],
      },
      secrets: secrets.store,
    });
    placeholder = box.gateway.credentialEnv().PADDOCK_CREDENTIAL_GH_TOKEN!;
  });

  after(async () => {
    await box.close();
    await Promise.all([https.close(), http.close(), web80.close(), web443.close(), gitServer.close()]);
    secrets.remove();
    // The canary secret was never visible inside the sandbox, in a log line or in an event.
    for (const output of outputs)
      assert.ok(!output.includes(CANARY), 'the secret was visible inside the sandbox');
    assert.ok(!box.logs.join('').includes(CANARY), 'the secret reached the logs');
    assert.ok(!JSON.stringify(box.events).includes(CANARY), 'the secret reached the events');
  });

  const run = async (script: string) => {
    const result = await box.run(script);
    outputs.push(result.output);
    return sections(result.output);
  };

  it('curl, python, node and git reach allowed services through the proxy variables', async () => {
    const node = process.execPath;
    const out = await run(`
echo "=== curl-https"; curl -sS https://api.example.test:${https.port}/inside
echo; echo "=== curl-denied"; curl -sS -i -X DELETE https://api.example.test:${https.port}/x
echo; echo "=== curl-http"; curl -sS http://plain.example.test:${http.port}/plain
echo; echo "=== curl-socks"; curl -sS --proxy "$ALL_PROXY" https://api.example.test:${https.port}/socks
echo; echo "=== python"; python3 -c "import urllib.request; print(urllib.request.urlopen('https://api.example.test:${https.port}/python').read().decode())"
echo "=== node"; NODE_USE_ENV_PROXY=1 ${node} -e "fetch('https://api.example.test:${https.port}/node').then(async (r) => console.log(r.status, await r.text()), (e) => console.log('fetch failed', e.cause?.message ?? e.message))"
echo "=== git"; git clone -q https://git.example.test:${gitServer.port}/repo.git /workspace/repo 2>&1 && cat /workspace/repo/README.md
echo "=== end"`);
    assert.equal(JSON.parse(out['curl-https']!).url, '/inside');
    assert.match(
      out['curl-denied']!,
      /HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"method_not_allowed"[\s\S]*"missingRule":"set services\[api\]\.access to read-write"/,
    );
    assert.equal(JSON.parse(out['curl-http']!).url, '/plain');
    assert.equal(JSON.parse(out['curl-socks']!).url, '/socks');
    assert.equal(JSON.parse(out.python!).url, '/python');
    assert.match(out.node!, /^200 .*"url":"\/node"/);
    assert.equal(out.git, 'hello through the gateway\n');
    assert.ok(
      gitServer.authorizations.length > 0 &&
        gitServer.authorizations.every((value) => value === `Bearer ${CANARY}`),
    );
  });

  it('clients that ignore the proxy variables are caught by the transparent 80 and 443 listeners', async () => {
    const out = await run(`
echo "=== t443"; curl -sS --noproxy '*' --resolve web.example.test:443:${DEAD_ADDRESS} https://web.example.test/t443
echo; echo "=== t80"; curl -sS --noproxy '*' --resolve web.example.test:80:${DEAD_ADDRESS} http://web.example.test/t80
echo; echo "=== t443-denied"; curl -sS --noproxy '*' --max-time 5 --resolve evil.example.test:443:${DEAD_ADDRESS} https://evil.example.test/ 2>&1; echo "exit=$?"
echo "=== end"`);
    assert.equal(JSON.parse(out.t443!).url, '/t443');
    assert.equal(JSON.parse(out.t80!).url, '/t80');
    assert.match(out['t443-denied']!, /exit=(35|56)/);
  });

  it('attacks from inside: direct dials, DNS, metadata, private literals, fronting and misdirected placeholders all fail', async () => {
    const before = https.requests.length;
    const out = await run(`
echo "=== direct"; curl -sS --noproxy '*' --max-time 3 http://127.0.0.1:${http.port}/ 2>&1; echo "exit=$?"
echo "=== dns"; getent hosts api.example.test || echo "no-dns"
echo "=== metadata"; curl -sS -i http://169.254.169.254/latest/meta-data/
echo; echo "=== metadata-socks"; curl -sS --max-time 5 --proxy "$ALL_PROXY" http://169.254.169.254/ 2>&1; echo "exit=$?"
echo "=== decimal"; curl -sS -i --noproxy '' http://2130706433:${http.port}/
echo; echo "=== fronting"; curl -sS -i -H "Host: plain.example.test:${http.port}" https://api.example.test:${https.port}/repos
echo; echo "=== misdirected"; curl -sS -i -H "Authorization: Bearer ${placeholder}" https://elsewhere.example.test:${https.port}/
echo; echo "=== reflected"; curl -sS -H "Authorization: Bearer ${placeholder}" https://api.github.test:${https.port}/reflect-auth 2>&1; echo "exit=$?"
echo "=== environment"; env; tr '\\0' '\\n' < /proc/self/environ
echo "=== end"`);
    assert.match(out.direct!, /exit=7/);
    assert.match(out.dns!, /no-dns/);
    assert.match(out.metadata!, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"ip_literal_not_allowed"/);
    assert.match(out['metadata-socks']!, /exit=97/);
    // curl rewrites 2130706433 to 127.0.0.1 itself; either way the gateway refuses the literal.
    assert.match(
      out.decimal!,
      /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"ip_literal_(noncanonical|not_allowed)"/,
    );
    assert.match(out.fronting!, /HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/);
    assert.match(out.misdirected!, /HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"placeholder_misdirected"/);
    assert.ok(!out.reflected!.includes(CANARY));
    assert.ok(!out.environment!.includes(CANARY));
    // Of all that, only the reflection request (allowed, credential injected) reached the upstream.
    assert.deepEqual(
      https.requests.slice(before).map((request) => request.url),
      ['/reflect-auth'],
    );
  });

  it('records every decision with the bundle that made it', () => {
    const codes = new Set(box.events.map((event) => event.metadata.event_code));
    for (const code of ['egress.allowed', 'egress.denied', 'http.allowed', 'http.denied', 'egress.closed'])
      assert.ok(codes.has(code), code);
    for (const event of box.events)
      assert.equal((event as { policy?: { uid: string } }).policy?.uid ?? 'bundle-sandbox', 'bundle-sandbox');
  });
});
