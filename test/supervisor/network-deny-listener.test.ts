// Issue 3 (Network) and the seam of issue 4: the default-deny listener answers every protocol
// the sandbox's proxy variables and the transparent redirect lead to, refuses in a way a client
// can read, and reports each refusal. Clients run inside the sandbox network as nobody.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/errors.ts';
import {
  createDenyListener,
  createSandboxNetwork,
  type EgressDecider,
  type EgressDenial,
  type EgressListener,
  type SandboxNetwork,
} from '../../src/supervisor/sandbox/network/index.ts';
import {
  closeServer,
  DEAD_ADDRESS,
  probe,
  recordingServer,
  requireRoot,
  runInNetwork,
  TEST_PORTS,
} from './network-support.ts';

type Raw = { ok: boolean; code?: string; received?: string };
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const text = (result: Raw | undefined) => Buffer.from(result?.received ?? '', 'base64').toString('latin1');
const bytes = (result: Raw | undefined) => [...Buffer.from(result?.received ?? '', 'base64')];
const jsonBody = (response: string) =>
  JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('deny listener', () => {
  let network: SandboxNetwork;
  let listener: EgressListener;
  let decide: EgressDecider | undefined;
  const denials: EgressDenial[] = [];
  const foreign: string[] = [];

  before(async () => {
    requireRoot();
    network = await createSandboxNetwork({ ports: TEST_PORTS });
    listener = createDenyListener({
      decide: (request) => (decide ? decide(request) : Promise.reject(new Error('unset'))),
      onDenied: (denial) => denials.push(denial),
      onForeignConnection: (name, address) => foreign.push(`${name} ${address}`),
    });
    await listener.listen(network);
  });
  beforeEach(() => {
    denials.length = 0;
    decide = async () => ({ allow: false, reason: 'no_matching_service', rule: 'default-deny' });
  });
  after(async () => {
    await listener?.close();
    await network?.close();
  });

  const proxy = (send: string | Buffer, port = TEST_PORTS.httpProxy) => ({
    op: 'raw',
    host: network.hostAddress,
    port,
    send: b64(send),
  });

  it('refuses absolute-form requests and CONNECT with 403, a JSON body and X-Paddock-Error', async () => {
    const [absolute, tunnel, noPort, upgrade] = await probe<Raw>(network, [
      proxy('GET http://files.example.test:8080/x HTTP/1.1\r\nHost: files.example.test:8080\r\n\r\n'),
      proxy('CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n'),
      proxy('CONNECT api.example.test HTTP/1.1\r\nHost: api.example.test\r\n\r\n'),
      proxy(
        'GET http://ws.example.test/ HTTP/1.1\r\nHost: ws.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      ),
    ]);
    for (const result of [absolute, tunnel, noPort, upgrade]) {
      assert.match(text(result), /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.match(text(result), /\r\nx-paddock-error: PDK_EGRESS_DENIED\r\n/i);
      assert.match(text(result), /\r\nx-paddock-reason: no_matching_service\r\n/i);
    }
    const body = jsonBody(text(absolute));
    assert.deepEqual(
      {
        error: body.error,
        reason: body.reason,
        host: body.host,
        port: body.port,
        via: body.via,
        rule: body.rule,
      },
      {
        error: 'PDK_EGRESS_DENIED',
        reason: 'no_matching_service',
        host: 'files.example.test',
        port: 8080,
        via: 'absolute',
        rule: 'default-deny',
      },
    );
    assert.equal(typeof body.fix, 'string');
    assert.equal(jsonBody(text(tunnel)).via, 'connect');
    assert.equal(jsonBody(text(noPort)).port, 0);
    const seen = denials.map((denial) => `${denial.via} ${denial.host}:${denial.port}`).sort();
    assert.deepEqual(seen, [
      'absolute files.example.test:8080',
      'absolute ws.example.test:80',
      'connect api.example.test:0',
      'connect api.example.test:443',
    ]);
  });

  it('answers real clients (curl through HTTP_PROXY, HTTPS_PROXY and socks5h) with readable refusals', async () => {
    const curl = (args: string[]) =>
      runInNetwork(network, ['curl', '-sS', '--max-time', '5', ...args], { env: network.env });
    const http = await curl(['-i', 'http://example.test/']);
    assert.match(http.stdout, /403 Forbidden/);
    assert.equal(
      jsonBody(http.stdout.replaceAll('\r\n', '\n').replace('\n\n', '\r\n\r\n')).error,
      'PDK_EGRESS_DENIED',
    );
    const https = await curl(['https://example.test/']);
    assert.equal(https.code, 56, https.stderr);
    assert.match(https.stderr, /403/);
    const socks = await curl(['--proxy', network.env.ALL_PROXY!, 'http://example.test/']);
    assert.equal(socks.code, 97, socks.stderr);
    assert.match(socks.stderr, /SOCKS5 connection to example\.test\. \(2\)/); // 2: not allowed by ruleset
    assert.ok(
      denials.some(
        (denial) => denial.via === 'socks' && denial.host === 'example.test' && denial.port === 80,
      ),
    );
  });

  it('speaks SOCKS5 up to the refusal, and refuses SOCKS4, UDP ASSOCIATE and unknown methods', async () => {
    const domain = Buffer.concat([
      Buffer.from([5, 1, 0, 5, 1, 0, 3, 16]),
      Buffer.from('exfil.example.t1'),
      Buffer.from([0x01, 0xbb]),
    ]);
    const [named, ipv4, udp, socks4, userPass] = await probe<Raw>(network, [
      proxy(domain, TEST_PORTS.socks),
      proxy(Buffer.from([5, 1, 0, 5, 1, 0, 1, 10, 231, 0, 2, 0, 22]), TEST_PORTS.socks),
      proxy(Buffer.from([5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0]), TEST_PORTS.socks),
      proxy(Buffer.from([4, 1, 0, 80, 10, 231, 0, 2, 0]), TEST_PORTS.socks),
      proxy(Buffer.from([5, 1, 2]), TEST_PORTS.socks),
    ]);
    assert.deepEqual(bytes(named), [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(bytes(ipv4), [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(bytes(udp), [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(bytes(socks4), [0, 0x5b, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(bytes(userPass), [5, 0xff]);
    const seen = denials.map((denial) => `${denial.reason} ${denial.host}:${denial.port}`).sort();
    assert.ok(seen.includes('no_matching_service exfil.example.t1:443'), seen.join(', '));
    assert.ok(seen.includes(`no_matching_service ${DEAD_ADDRESS}:22`), seen.join(', '));
    assert.equal(seen.filter((line) => line.startsWith('protocol_not_allowed')).length, 3, seen.join(', '));
  });

  it('closes transparent TLS with an access_denied alert, naming the server it asked for', async () => {
    const [named, literal, plain] = await probe<Raw & { code?: string }>(network, [
      { op: 'tls', host: DEAD_ADDRESS, port: 443, servername: 'secrets.example.test' },
      { op: 'tls', host: DEAD_ADDRESS, port: 443, servername: '' },
      { op: 'raw', host: DEAD_ADDRESS, port: 443, send: b64('GET / HTTP/1.1\r\n\r\n') },
    ]);
    assert.match(named!.code ?? '', /ALERT_ACCESS_DENIED/);
    assert.match(literal!.code ?? '', /ALERT_ACCESS_DENIED/);
    assert.deepEqual(bytes(plain), [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31]);
    const reasons = denials.map((denial) => `${denial.via} ${denial.reason} ${denial.host}`).sort();
    assert.deepEqual(reasons, [
      'transparent-tls no_matching_service secrets.example.test',
      'transparent-tls protocol_not_allowed ',
      'transparent-tls sni_missing ',
    ]);
  });

  it('fails closed when the decider throws or allows (it never forwards)', async () => {
    decide = async () => {
      throw new Error('policy engine down');
    };
    const [failed] = await probe<Raw>(network, [
      proxy('GET http://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\n\r\n'),
    ]);
    assert.equal(jsonBody(text(failed)).reason, 'decision_failed');
    decide = async () => ({ allow: true, rule: 'github#hosts' });
    const [allowed] = await probe<Raw>(network, [proxy('CONNECT api.github.com:443 HTTP/1.1\r\n\r\n')]);
    assert.match(text(allowed), /^HTTP\/1\.1 403 /);
    assert.equal(jsonBody(text(allowed)).reason, 'gateway_unavailable');
    assert.deepEqual(
      denials.map((denial) => denial.reason),
      ['decision_failed', 'gateway_unavailable'],
    );
  });

  it('answers malformed and oversized requests without consulting the decider', async () => {
    const [garbage, huge] = await probe<Raw>(network, [
      proxy('NOT HTTP AT ALL\r\n\r\n'),
      proxy(`GET http://a.example.test/ HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    ]);
    assert.match(text(garbage), /^HTTP\/1\.1 400 /);
    assert.match(text(huge), /^HTTP\/1\.1 431 /);
    assert.equal(denials.length, 0);
  });

  it('drops connections that do not come from the sandbox', async () => {
    const received = await new Promise<string>((resolve) => {
      const socket = connect({ host: network.hostAddress, port: TEST_PORTS.httpProxy }, () =>
        socket.write('GET http://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('close', () => resolve(data));
      socket.on('error', () => {});
    });
    assert.equal(received, '');
    assert.deepEqual(foreign, [`httpProxy ${network.hostAddress}`]);
    assert.equal(denials.length, 0);
  });

  it('binds all four ports or none, and reports which port failed', async () => {
    const other = await createSandboxNetwork({ ports: TEST_PORTS });
    let squatter: Awaited<ReturnType<typeof recordingServer>> | undefined;
    try {
      // Another process already on the SOCKS port of that address makes that one bind fail.
      squatter = await recordingServer(other.hostAddress, TEST_PORTS.socks);
      const second = createDenyListener();
      await assert.rejects(second.listen(other), (error: unknown) => {
        assert.ok(isPaddockError(error, 'PDK_NETWORK_LISTEN'));
        assert.match(error.message, new RegExp(`${other.hostAddress}:${TEST_PORTS.socks} \\(socks\\)`));
        return true;
      });
      await closeServer(squatter.server);
      // Nothing was left bound: a fresh listener takes all four.
      const third = createDenyListener();
      await third.listen(other);
      await third.close();
    } finally {
      if (squatter?.server.listening) await closeServer(squatter.server);
      await other.close();
    }
  });
});
