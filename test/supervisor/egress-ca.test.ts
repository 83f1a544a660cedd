import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/index.ts';
import {
  createEphemeralWorkspaceCa,
  loadOrCreateWorkspaceCa,
  type WorkspaceCa,
} from '../../src/supervisor/egress/index.ts';
import { runClient } from './egress-fixtures.ts';

/** The leaf a CA serves for `host`, fetched over a real TLS handshake. */
async function leafFor(
  ca: WorkspaceCa,
  host: string,
): Promise<{ leaf: X509Certificate; authorized: boolean; port: number; close: () => void }> {
  const server = createServer(
    { SNICallback: (_name, callback) => callback(null, ca.secureContextFor(host)) },
    (socket) => socket.end(),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const tls = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        servername: host.includes(':') || /^\d/.test(host) ? 'ip.invalid' : host,
        ca: ca.certPem,
        rejectUnauthorized: false,
      },
      () => resolve(tls),
    );
    tls.on('error', reject);
  });
  const leaf = new X509Certificate(socket.getPeerCertificate(true).raw);
  const authorized = socket.authorized;
  socket.destroy();
  return { leaf, authorized, port, close: () => server.close() };
}

describe('workspace CA', () => {
  it('creates ca.key (0600) and ca.pem (0644) in a 0700 directory, and loads the same CA again', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pdk-ca-')), 'ca');
    try {
      const first = loadOrCreateWorkspaceCa(dir, { commonName: 'ws-1' });
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'ca.pem')).mode & 0o777, 0o644);
      const cert = new X509Certificate(first.certPem);
      assert.equal(cert.ca, true);
      assert.match(cert.subject, /CN=Paddock workspace CA ws-1/);
      assert.equal(loadOrCreateWorkspaceCa(dir, { commonName: 'ws-1' }).certPem, first.certPem);
      assert.ok(!first.certPem.includes('PRIVATE KEY'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key that does not match the certificate, or half a pair, instead of replacing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdk-ca-'));
    try {
      loadOrCreateWorkspaceCa(dir, { commonName: 'ws-1' });
      const other = mkdtempSync(join(tmpdir(), 'pdk-ca-'));
      loadOrCreateWorkspaceCa(other, { commonName: 'ws-2' });
      writeFileSync(join(dir, 'ca.key'), readFileSync(join(other, 'ca.key')));
      rmSync(other, { recursive: true, force: true });
      assert.throws(
        () => loadOrCreateWorkspaceCa(dir, { commonName: 'ws-1' }),
        (error) => isPaddockError(error, 'PDK_EGRESS_CA') && /does not match/.test(error.message),
      );
      rmSync(join(dir, 'ca.key'));
      assert.throws(
        () => loadOrCreateWorkspaceCa(dir, { commonName: 'ws-1' }),
        (error) => isPaddockError(error, 'PDK_EGRESS_CA'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('issues leaves for names and IP literals that verify against the CA, and caches them', async () => {
    const ca = createEphemeralWorkspaceCa({ commonName: 'ws-leaf' });
    const caCert = new X509Certificate(ca.certPem);
    for (const host of ['api.example.test', '127.0.0.1', '::1']) {
      const { leaf, close } = await leafFor(ca, host);
      close();
      assert.ok(leaf.verify(caCert.publicKey), host);
      assert.ok(leaf.checkIssued(caCert), host);
      assert.equal(leaf.ca, false);
      assert.ok(
        host.includes('.') && !/^\d/.test(host) ? leaf.checkHost(host) : leaf.checkIP(host),
        `SAN for ${host}`,
      );
    }
    assert.equal(ca.secureContextFor('api.example.test'), ca.secureContextFor('api.example.test'));
  });

  it('issues leaves that OpenSSL verifies in strict X.509 mode', async () => {
    const ca = createEphemeralWorkspaceCa({ commonName: 'ws-strict' });
    const dir = mkdtempSync(join(tmpdir(), 'pdk-ca-'));
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    const { port, close } = await leafFor(ca, 'strict.example.test');
    try {
      const result = await runClient('openssl', [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'strict.example.test',
        '-verify_hostname',
        'strict.example.test',
        '-CAfile',
        join(dir, 'ca.pem'),
        '-x509_strict',
        '-verify_return_error',
      ]);
      assert.match(result.stdout, /Verify return code: 0 \(ok\)/, result.stderr);
    } finally {
      close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('issues a leaf in well under 50 ms', () => {
    const ca = createEphemeralWorkspaceCa({ commonName: 'ws-speed' });
    ca.secureContextFor('warm.example.test');
    const started = performance.now();
    for (let i = 0; i < 20; i++) ca.secureContextFor(`h${i}.example.test`);
    const each = (performance.now() - started) / 20;
    assert.ok(each < 50, `${each.toFixed(1)} ms per leaf`);
  });
});
