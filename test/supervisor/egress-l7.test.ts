// Issue 4: L7 inspection. Requests to services with `access` or `rules` are matched on
// method and path inside terminated TLS; WebSocket upgrades follow the rules; a denial is a
// 403 whose JSON body names the rule that would allow it; HTTP Activity events are redacted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  eventsOf,
  type GatewayFixture,
  pemFile,
  rawExchange,
  runClient,
  startGateway,
  startUpstream,
  tlsRequest,
  type Upstream,
} from './egress-fixtures.ts';

/** The fields of an HTTP Activity event these tests read. */
interface HttpEvent {
  metadata: { event_code: string };
  status_code: string;
  http_request: { url: { url_string: string } };
  http_response: { code: number };
  authorizations: Array<{ policy: { uid: string } }>;
  policy: unknown;
}

describe('L7 inspection', () => {
  let https: Upstream;
  let http: Upstream;
  let fx: GatewayFixture;
  let caFile: string;
  let api: string;
  let proxy: string;

  before(async () => {
    https = await startUpstream({ tls: true });
    http = await startUpstream();
    const loopback = ['127.0.0.0/8'];
    fx = await startGateway({
      services: [
        {
          name: 'api',
          hosts: ['api.example.test'],
          ports: [https.port, http.port],
          access: 'read-write',
          rules: [
            { methods: ['GET'], paths: ['/repos/**', '/ws'] },
            { methods: ['POST'], paths: ['/repos/*/*/issues'] },
          ],
          cidrs: loopback,
        },
      ],
      names: { 'api.example.test': ['127.0.0.1'] },
      logging: { urls: 'redacted', redact: [/token=[^&]*/g] },
    });
    caFile = pemFile(fx.ca.certPem);
    api = `api.example.test:${https.port}`;
    proxy = `http://127.0.0.1:${fx.ports.httpProxy}`;
  });

  after(async () => {
    await fx.close();
    await Promise.all([https.close(), http.close()]);
  });

  const curl = (args: string[]) =>
    runClient('curl', ['-sS', '-i', '--proxy', proxy, '--cacert', caFile, ...args]);
  const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

  it('allows what a rule matches', async () => {
    const get = await curl([`https://${api}/repos/acme/widgets/pulls?state=open`]);
    assert.match(get.stdout, /^HTTP\/1\.1 200 Connection established\r\n\r\nHTTP\/1\.1 200 OK/);
    const post = await curl([
      '-X',
      'POST',
      '-d',
      '{"title":"x"}',
      `https://${api}/repos/acme/widgets/issues`,
    ]);
    assert.match(post.stdout, /HTTP\/1\.1 200 OK/);
    assert.equal(https.requests.at(-1)?.body, '{"title":"x"}');
  });

  it('denies a path no rule matches, naming the missing rule', async () => {
    const response = await curl(['-X', 'POST', '-d', 'x', `https://${api}/repos/acme/widgets/pulls`]);
    assert.match(response.stdout, /HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(response.stdout, /X-Paddock-Error: PDK_EGRESS_DENIED\r\n/);
    const body = bodyOf(response.stdout.slice(response.stdout.indexOf('HTTP/1.1 403')));
    assert.deepEqual(body, {
      error: 'PDK_EGRESS_DENIED',
      message: "egress denied by policy: the method is outside the service's access level or rules",
      reason: 'method_not_allowed',
      service: 'api',
      method: 'POST',
      path: '/repos/acme/widgets/pulls',
      detail: 'POST /repos/acme/widgets/pulls matches no rule',
      missingRule: 'add { methods: [POST], paths: ["/repos/acme/widgets/pulls"] } to services[api].rules',
    });
  });

  it('refuses a write a review gate covers instead of sending it unreviewed', async () => {
    const gated = await startGateway({
      services: [
        {
          name: 'api',
          hosts: ['api.example.test'],
          ports: [https.port],
          access: 'read-write',
          cidrs: ['127.0.0.0/8'],
        },
      ],
      names: { 'api.example.test': ['127.0.0.1'] },
      reviewGate: ({ method, path }) =>
        method === 'POST' && path.endsWith('/reviews') ? 'writes[0].review' : undefined,
    });
    try {
      const seen = https.requests.length;
      const run = (args: string[]) =>
        runClient('curl', [
          '-sS',
          '-i',
          '--proxy',
          `http://127.0.0.1:${gated.ports.httpProxy}`,
          '--cacert',
          pemFile(gated.ca.certPem),
          ...args,
        ]);
      const held = await run(['-X', 'POST', '-d', '{}', `https://${api}/repos/a/b/pulls/1/reviews`]);
      const body = bodyOf(held.stdout.slice(held.stdout.indexOf('HTTP/1.1 403')));
      assert.equal(body.reason, 'review_required');
      assert.match(
        body.detail,
        /^POST \/repos\/a\/b\/pulls\/1\/reviews needs a reviewer's approval \(writes\[0\]\.review\)/,
      );
      assert.equal(https.requests.length, seen, 'the gated write reached the upstream');
      const open = await run([`https://${api}/repos/a/b/pulls/1`]);
      assert.match(open.stdout, /HTTP\/1\.1 200 OK/);
    } finally {
      await gated.close();
    }
  });

  it('denies a method outside the access class before looking at rules', async () => {
    const response = await curl(['-X', 'TRACE', `https://${api}/repos/a/b`]);
    const body = bodyOf(response.stdout.slice(response.stdout.indexOf('HTTP/1.1 403')));
    assert.equal(body.reason, 'method_not_allowed');
    assert.match(body.missingRule, /^set services\[api\]\.access to full and add \{ methods: \[TRACE\]/);
  });

  it('denies ambiguous paths (dot segments, encoded slashes) instead of normalizing them', async () => {
    for (const path of [
      '/repos/../admin',
      '/repos/%2e%2e/admin',
      '/repos/a%2F..%2F..%2Fadmin',
      '/repos//admin',
    ]) {
      const response = await curl(['--path-as-is', `https://${api}${path}`]);
      assert.match(response.stdout, /"reason":"path_ambiguous"/, path);
    }
    assert.ok(!https.requests.some((request) => request.url.includes('admin')));
  });

  it('keeps the connection after a denied request without a body, and checks the next one', async () => {
    const response = await curl([`https://${api}/nope`, `https://${api}/repos/x`]);
    assert.match(response.stdout, /HTTP\/1\.1 403 Forbidden[\s\S]*HTTP\/1\.1 200 OK/);
    assert.doesNotMatch(response.stderr, /Re-using|reconnect/i);
  });

  it('applies the same rules to an inspected service reached over plain HTTP', async () => {
    const allowed = await rawExchange(fx.ports.httpProxy, [
      `GET http://api.example.test:${http.port}/repos/a HTTP/1.1\r\nHost: api.example.test:${http.port}\r\nConnection: close\r\n\r\n`,
    ]);
    assert.match(allowed, /^HTTP\/1\.1 200 OK/);
    const denied = await rawExchange(fx.ports.httpProxy, [
      `DELETE http://api.example.test:${http.port}/repos/a HTTP/1.1\r\nHost: api.example.test:${http.port}\r\nConnection: close\r\n\r\n`,
    ]);
    assert.match(denied, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"method_not_allowed"/);
  });

  it('WebSocket: an upgrade on an allowed GET path switches to a tunnel', async () => {
    const upgrade = `GET /ws HTTP/1.1\r\nHost: ${api}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const response = await tlsRequest(
      fx.ports.httpProxy,
      api,
      'api.example.test',
      [upgrade, 'ping-frame-bytes'],
      fx.ca.certPem,
      800,
    );
    assert.match(
      response,
      /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n\r\nping-frame-bytes$/,
    );
  });

  it('WebSocket: an upgrade on a path no rule allows, or to another protocol, is refused', async () => {
    const denied = await tlsRequest(
      fx.ports.httpProxy,
      api,
      'api.example.test',
      `GET /chat HTTP/1.1\r\nHost: ${api}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      fx.ca.certPem,
    );
    assert.match(denied, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"path_not_allowed"/);
    const h2c = await tlsRequest(
      fx.ports.httpProxy,
      api,
      'api.example.test',
      `GET /repos/a HTTP/1.1\r\nHost: ${api}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`,
      fx.ca.certPem,
    );
    assert.match(h2c, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"protocol_not_allowed"/);
  });

  it('refuses CONNECT inside an inspected connection (no tunnel within the tunnel)', async () => {
    const nested = await tlsRequest(
      fx.ports.httpProxy,
      api,
      'api.example.test',
      `CONNECT evil.example.test:443 HTTP/1.1\r\nHost: evil.example.test:443\r\n\r\n`,
      fx.ca.certPem,
    );
    assert.match(nested, /^HTTP\/1\.1 400 Bad Request/);
  });

  it('records HTTP Activity for each inspected request, with the rule, status and redacted URL', async () => {
    await curl([`https://${api}/repos/a/b?token=s3cr3t&page=2`]);
    const events = eventsOf(fx.events, 4002);
    const allowed = events.find((event) => JSON.stringify(event).includes('page=2'))! as unknown as HttpEvent;
    assert.equal(allowed.metadata.event_code, 'http.allowed');
    assert.equal(allowed.http_request.url.url_string, `https://${api}/repos/a/b?[REDACTED]&page=2`);
    assert.equal(allowed.http_response.code, 200);
    assert.equal(allowed.authorizations[0]?.policy.uid, 'api#rules[0]');
    assert.deepEqual(allowed.policy, {
      uid: 'bundle-test',
      version: '7',
      type: 'Paddock policy bundle',
      is_applied: true,
    });
    assert.ok(!JSON.stringify(events).includes('s3cr3t'));
    const denied = events.find(
      (event) => event.metadata.event_code === 'http.denied' && JSON.stringify(event).includes('/pulls'),
    )! as unknown as HttpEvent;
    assert.equal(denied.status_code, 'method_not_allowed');
    assert.equal(denied.http_response.code, 403);
  });
});
