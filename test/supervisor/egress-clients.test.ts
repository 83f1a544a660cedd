// Issue 4: real clients (curl, Node's fetch, Python's urllib, git) through the egress gateway
// on loopback, against local HTTP and TLS servers; names resolve through the test's table.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startGitServer, type GitServer } from './egress-git-server.ts';
import {
  eventsOf,
  type GatewayFixture,
  makeSecretStore,
  pemFile,
  runClient,
  RELAYS,
  startGateway,
  startUpstream,
  type Upstream,
  UPSTREAM_CA,
} from './egress-fixtures.ts';

const CANARY = 'pdk-canary-0f3e1d2c9b8a7f6e5d4c3b2a19081726';

// Once with each L4 relay (native splice(2), Node streams): tunnels behave the same.
for (const relay of RELAYS)
  describe(`egress gateway with real clients: ${relay}`, () => {
    let http: Upstream;
    let https: Upstream;
    let gitServer: GitServer;
    let fx: GatewayFixture;
    let secrets: Awaited<ReturnType<typeof makeSecretStore>>;
    let caFile: string;
    let proxy: string;
    let socks: string;

    before(async () => {
      http = await startUpstream();
      https = await startUpstream({ tls: true });
      gitServer = await startGitServer({ token: CANARY });
      secrets = await makeSecretStore({ 'git-token': CANARY });
      const loopback = ['127.0.0.0/8'];
      fx = await startGateway({
        services: [
          { name: 'plain', hosts: ['plain.example.test'], ports: [http.port], cidrs: loopback },
          { name: 'tunnel', hosts: ['tunnel.example.test'], ports: [https.port], cidrs: loopback },
          {
            name: 'api',
            hosts: ['api.example.test'],
            ports: [https.port],
            access: 'read-only',
            cidrs: loopback,
          },
          {
            name: 'git',
            hosts: ['git.example.test'],
            ports: [gitServer.port],
            credential: 'git-token',
            cidrs: loopback,
          },
        ],
        names: {
          'plain.example.test': ['127.0.0.1'],
          'tunnel.example.test': ['127.0.0.1'],
          'api.example.test': ['127.0.0.1'],
          'git.example.test': ['127.0.0.1'],
          'evil.example.test': ['127.0.0.1'],
        },
        secrets: secrets.store,
        relay,
      });
      caFile = pemFile(fx.ca.certPem);
      proxy = `http://127.0.0.1:${fx.ports.httpProxy}`;
      socks = `socks5h://127.0.0.1:${fx.ports.socks}`;
    });

    after(async () => {
      await fx.close();
      await Promise.all([http.close(), https.close(), gitServer.close()]);
      secrets.remove();
      // The canary secret never reached a log line or an event.
      assert.ok(!fx.logs.join('').includes(CANARY), 'canary in logs');
      assert.ok(!JSON.stringify(fx.events).includes(CANARY), 'canary in events');
    });

    it('curl: plain HTTP through the explicit proxy (absolute form)', async () => {
      const result = await runClient('curl', [
        '-sS',
        '--fail',
        '--proxy',
        proxy,
        `http://plain.example.test:${http.port}/hello?x=1`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).url, '/hello?x=1');
    });

    it('curl: HTTPS through a CONNECT tunnel (L4: end-to-end TLS, upstream certificate)', async () => {
      const result = await runClient('curl', [
        '-sS',
        '--fail',
        '--proxy',
        proxy,
        '--cacert',
        pemFile(UPSTREAM_CA.certPem),
        `https://tunnel.example.test:${https.port}/tunnel`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).url, '/tunnel');
    });

    it('curl: HTTPS to an inspected service (TLS terminated with the workspace CA)', async () => {
      const ok = await runClient('curl', [
        '-sS',
        '--fail',
        '--proxy',
        proxy,
        '--cacert',
        caFile,
        `https://api.example.test:${https.port}/repos/a`,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout).url, '/repos/a');
      const denied = await runClient('curl', [
        '-sS',
        '-i',
        '--proxy',
        proxy,
        '--cacert',
        caFile,
        '-X',
        'DELETE',
        `https://api.example.test:${https.port}/repos/a`,
      ]);
      assert.match(denied.stdout, /HTTP\/1\.1 403 Forbidden/);
      assert.match(denied.stdout, /X-Paddock-Error: PDK_EGRESS_DENIED/);
      const body = JSON.parse(denied.stdout.slice(denied.stdout.indexOf('{')));
      assert.deepEqual(
        {
          error: body.error,
          service: body.service,
          method: body.method,
          path: body.path,
          reason: body.reason,
        },
        {
          error: 'PDK_EGRESS_DENIED',
          service: 'api',
          method: 'DELETE',
          path: '/repos/a',
          reason: 'method_not_allowed',
        },
      );
      assert.equal(body.missingRule, 'set services[api].access to read-write');
    });

    it('curl: socks5h (the name resolves at the gateway)', async () => {
      const result = await runClient('curl', [
        '-sS',
        '--fail',
        '--proxy',
        socks,
        '--cacert',
        caFile,
        `https://api.example.test:${https.port}/via-socks`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).url, '/via-socks');
    });

    it('curl: a host no service allows is refused with 403, over every listener form', async () => {
      const plain = await runClient('curl', ['-sS', '-i', '--proxy', proxy, 'http://evil.example.test/']);
      assert.match(plain.stdout, /403 Forbidden[\s\S]*"reason":"no_matching_service"/);
      const tunnel = await runClient('curl', [
        '-sS',
        '--proxy',
        proxy,
        '--cacert',
        caFile,
        'https://evil.example.test/',
      ]);
      assert.notEqual(tunnel.code, 0);
      assert.match(tunnel.stderr, /403/);
      const viaSocks = await runClient('curl', ['-sS', '--proxy', socks, 'https://evil.example.test/']);
      assert.notEqual(viaSocks.code, 0);
    });

    it("Node's fetch with NODE_USE_ENV_PROXY (HTTP and HTTPS)", async () => {
      const env = {
        HTTPS_PROXY: proxy,
        HTTP_PROXY: proxy,
        NODE_USE_ENV_PROXY: '1',
        NODE_EXTRA_CA_CERTS: caFile,
      };
      const script = (url: string) =>
        `fetch(${JSON.stringify(url)}).then(async (r) => console.log(r.status, await r.text()), (e) => { console.error(e); process.exit(1); })`;
      const secure = await runClient(
        process.execPath,
        ['-e', script(`https://api.example.test:${https.port}/from-node`)],
        env,
      );
      assert.equal(secure.code, 0, secure.stderr);
      assert.match(secure.stdout, /^200 .*"url":"\/from-node"/);
      const plain = await runClient(
        process.execPath,
        ['-e', script(`http://plain.example.test:${http.port}/from-node-http`)],
        env,
      );
      assert.match(plain.stdout, /^200 .*"url":"\/from-node-http"/);
      // undici tunnels http:// through CONNECT too, so the refusal is the CONNECT's 403.
      const denied = await runClient(process.execPath, ['-e', script(`http://evil.example.test/`)], env);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /Proxy response \(403\)/);
    });

    it("Python's urllib with HTTPS_PROXY", async () => {
      const env = { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, SSL_CERT_FILE: caFile };
      const result = await runClient(
        'python3',
        [
          '-c',
          `import urllib.request; print(urllib.request.urlopen('https://api.example.test:${https.port}/from-python').read().decode())`,
        ],
        env,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).url, '/from-python');
      const denied = await runClient(
        'python3',
        [
          '-c',
          `import urllib.request\ntry:\n  urllib.request.urlopen(urllib.request.Request('https://api.example.test:${https.port}/x', method='POST', data=b'1'))\nexcept urllib.error.HTTPError as e:\n  print(e.code, e.headers['X-Paddock-Error'])`,
        ],
        env,
      );
      assert.equal(denied.stdout.trim(), '403 PDK_EGRESS_DENIED');
    });

    it('git clone over HTTPS with the credential injected by the gateway', async () => {
      const dir = mkdtempSync('/tmp/pdk-clone-');
      const env = {
        HTTPS_PROXY: proxy,
        GIT_SSL_CAINFO: caFile,
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: dir,
      };
      const result = await runClient(
        'git',
        ['clone', '-q', `https://git.example.test:${gitServer.port}/repo.git`, `${dir}/repo`],
        env,
        30_000,
      );
      assert.equal(result.code, 0, result.stderr);
      const readme = readFileSync(`${dir}/repo/README.md`, 'utf8');
      assert.equal(readme, 'hello through the gateway\n');
      assert.ok(gitServer.authorizations.length > 0);
      assert.ok(gitServer.authorizations.every((value) => value === `Bearer ${CANARY}`));
      rmSync(dir, { recursive: true, force: true });
    });

    it('records Network Activity for every decision and HTTP Activity for inspected requests, with the bundle', () => {
      const allowed = eventsOf(fx.events, 4001, 'egress.allowed');
      const denied = eventsOf(fx.events, 4001, 'egress.denied');
      assert.ok(
        allowed.length >= 5 && denied.length >= 3,
        `${allowed.length} allowed, ${denied.length} denied`,
      );
      for (const event of [...allowed, ...denied]) {
        assert.deepEqual((event as { policy?: unknown }).policy, {
          uid: 'bundle-test',
          version: '7',
          type: 'Paddock policy bundle',
          is_applied: true,
        });
      }
      const http = eventsOf(fx.events, 4002);
      assert.ok(
        http.some(
          (event) =>
            event.metadata.event_code === 'http.denied' &&
            (event as { status_code?: string }).status_code === 'method_not_allowed',
        ),
      );
      assert.ok(http.some((event) => event.metadata.event_code === 'http.allowed'));
    });
  });
