// Issue 4: credential injection. The sandbox holds placeholders; the gateway swaps in the
// secret only on allowed requests to the bound service, refuses placeholders sent anywhere
// else, replaces client-supplied credentials, and never lets the secret back out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type GatewayFixture,
  makeSecretStore,
  rawExchange,
  startGateway,
  startUpstream,
  tlsRequest,
  type Upstream,
} from './egress-fixtures.ts';

const SECRET = 'pdk-canary-gh-7a1c9e4b2d8f6053a1c9e4b2d8f60531';
const OTHER_SECRET = 'pdk-canary-ai-0b9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e';

describe('credential injection', () => {
  let https: Upstream;
  let http: Upstream;
  let fx: GatewayFixture;
  let secrets: Awaited<ReturnType<typeof makeSecretStore>>;
  let placeholder: string;
  let otherPlaceholder: string;

  before(async () => {
    https = await startUpstream({ tls: true });
    http = await startUpstream();
    secrets = await makeSecretStore({ 'github-pat': SECRET, 'ai-key': OTHER_SECRET });
    const loopback = ['127.0.0.0/8'];
    fx = await startGateway({
      services: [
        {
          name: 'github',
          hosts: ['api.github.test'],
          ports: [https.port],
          access: 'read-only',
          credential: 'github-pat',
          cidrs: loopback,
        },
        {
          name: 'ai',
          hosts: ['api.ai.test'],
          ports: [https.port],
          credential: 'ai-key',
          credentialHeader: 'x-api-key',
          cidrs: loopback,
        },
        {
          name: 'elsewhere',
          hosts: ['elsewhere.test'],
          ports: [https.port, http.port],
          access: 'full',
          cidrs: loopback,
        },
        { name: 'blind', hosts: ['blind.test'], ports: [http.port], cidrs: loopback },
      ],
      names: Object.fromEntries(
        ['api.github.test', 'api.ai.test', 'elsewhere.test', 'blind.test'].map((name) => [
          name,
          ['127.0.0.1'],
        ]),
      ),
      secrets: secrets.store,
    });
    const env = fx.gateway.credentialEnv();
    placeholder = env.PADDOCK_CREDENTIAL_GITHUB_PAT!;
    otherPlaceholder = env.PADDOCK_CREDENTIAL_AI_KEY!;
  });

  after(async () => {
    await fx.close();
    await Promise.all([https.close(), http.close()]);
    secrets.remove();
    const logs = fx.logs.join('');
    const events = JSON.stringify(fx.events);
    for (const secret of [SECRET, OTHER_SECRET]) {
      assert.ok(!logs.includes(secret), 'a secret reached the logs');
      assert.ok(!events.includes(secret), 'a secret reached the events');
    }
    assert.ok(!events.includes(placeholder), 'events carry placeholders masked');
  });

  const send = (host: string, head: string, body = '') =>
    tlsRequest(
      fx.ports.httpProxy,
      `${host}:${https.port}`,
      host,
      `${head.replace('HOST', `${host}:${https.port}`)}Connection: close\r\n\r\n${body}`,
      fx.ca.certPem,
    );
  const lastHeaders = () => https.requests.at(-1)!.headers;

  it('gives the sandbox one random placeholder per credential, in PADDOCK_CREDENTIAL_<NAME>', () => {
    assert.match(placeholder, /^pdk_ph_github_pat_[0-9a-f]{32}$/);
    assert.match(otherPlaceholder, /^pdk_ph_ai_key_[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(fx.gateway.credentialEnv()).sort(), [
      'PADDOCK_CREDENTIAL_AI_KEY',
      'PADDOCK_CREDENTIAL_GITHUB_PAT',
    ]);
  });

  for (const [name, sent, expected] of [
    ['Bearer placeholder', () => `Bearer ${placeholder}`, () => `Bearer ${SECRET}`],
    ['token placeholder', () => `token ${placeholder}`, () => `token ${SECRET}`],
    [
      'Basic credentials holding the placeholder',
      () => `Basic ${Buffer.from(`x-access-token:${placeholder}`).toString('base64')}`,
      () => `Basic ${Buffer.from(`x-access-token:${SECRET}`).toString('base64')}`,
    ],
    [
      'a client-supplied token (replaced)',
      () => 'Bearer ghp_somethingtheagentmadeup',
      () => `Bearer ${SECRET}`,
    ],
  ] as const) {
    it(`injects the secret into ${name}`, async () => {
      const response = await send(
        'api.github.test',
        `GET /quiet/repos/a HTTP/1.1\r\nHost: HOST\r\nAuthorization: ${sent()}\r\nAccept-Encoding: gzip\r\n`,
      );
      assert.match(response, /^HTTP\/1\.1 200 OK/);
      assert.equal(lastHeaders().authorization, expected());
      assert.equal(lastHeaders()['accept-encoding'], 'identity');
      assert.ok(!response.includes(SECRET));
    });
  }

  it('injects Bearer when the request carries no Authorization', async () => {
    await send('api.github.test', 'GET /quiet HTTP/1.1\r\nHost: HOST\r\n');
    assert.equal(lastHeaders().authorization, `Bearer ${SECRET}`);
  });

  it('uses the header the service declares, leaving Authorization as sent', async () => {
    await send(
      'api.ai.test',
      `POST /v1/chat HTTP/1.1\r\nHost: HOST\r\nx-api-key: ${otherPlaceholder}\r\nAuthorization: Bearer unrelated\r\nContent-Length: 2\r\n`,
      '{}',
    );
    assert.equal(lastHeaders()['x-api-key'], OTHER_SECRET);
    assert.equal(lastHeaders().authorization, 'Bearer unrelated');
    assert.equal(https.requests.at(-1)!.method, 'POST', 'a credential alone means access full');
  });

  it('never injects into a request the rules deny', async () => {
    const before = https.requests.length;
    const response = await send(
      'api.github.test',
      `DELETE /repos/a HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer ${placeholder}\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"method_not_allowed"/);
    assert.equal(https.requests.length, before);
  });

  const misdirections: Array<[string, () => Promise<string>]> = [
    [
      'in Authorization to another service',
      () =>
        send('elsewhere.test', `GET / HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer ${placeholder}\r\n`),
    ],
    [
      'in another header',
      () => send('elsewhere.test', `GET / HTTP/1.1\r\nHost: HOST\r\nX-Token: ${placeholder}\r\n`),
    ],
    [
      'in the query string',
      () => send('elsewhere.test', `GET /?t=${placeholder} HTTP/1.1\r\nHost: HOST\r\n`),
    ],
    [
      'percent-encoded in the path',
      () =>
        send(
          'elsewhere.test',
          `GET /${encodeURIComponent(placeholder).replace('_', '%5F')} HTTP/1.1\r\nHost: HOST\r\n`,
        ),
    ],
    [
      'inside Basic credentials',
      () =>
        send(
          'elsewhere.test',
          `GET / HTTP/1.1\r\nHost: HOST\r\nAuthorization: Basic ${Buffer.from(`u:${placeholder}`).toString('base64')}\r\n`,
        ),
    ],
    [
      'at the start of the body',
      () =>
        send(
          'elsewhere.test',
          `POST / HTTP/1.1\r\nHost: HOST\r\nContent-Length: ${placeholder.length + 8}\r\n`,
          `{"k":"${placeholder}"}`,
        ),
    ],
    [
      'to a service bound to a different credential',
      () => send('api.ai.test', `GET / HTTP/1.1\r\nHost: HOST\r\nx-api-key: ${placeholder}\r\n`),
    ],
    [
      'over plain HTTP to an uninspected service',
      () =>
        rawExchange(fx.ports.httpProxy, [
          `GET http://blind.test:${http.port}/ HTTP/1.1\r\nHost: blind.test:${http.port}\r\nAuthorization: Bearer ${placeholder}\r\nConnection: close\r\n\r\n`,
        ]),
    ],
  ];
  for (const [name, attempt] of misdirections) {
    it(`refuses a placeholder ${name}, and logs it without the secret`, async () => {
      const before = https.requests.length + http.requests.length;
      const response = await attempt();
      assert.match(response, /HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"placeholder_misdirected"/);
      assert.equal(https.requests.length + http.requests.length, before, 'the request went upstream');
      assert.ok(
        fx.logs.some((line) =>
          line.includes('credential placeholder sent to a destination it is not bound to'),
        ),
      );
    });
  }

  it('cuts a response that echoes the injected secret before it reaches the sandbox', async () => {
    const response = await send(
      'api.github.test',
      `GET /reflect-auth HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer ${placeholder}\r\n`,
    );
    assert.ok(!response.includes(SECRET), 'the secret reached the client');
    assert.ok(fx.logs.some((line) => line.includes('upstream response contained the injected credential')));
  });
});
