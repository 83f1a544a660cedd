import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, it } from 'node:test';
import { parseClientHello } from '../../src/supervisor/sandbox/network/tls-client-hello.ts';
import { buildClientHello, refragment } from './egress-client-hello.ts';

/** The first flight of a real Node TLS client, captured by a TCP server that answers nothing. */
async function realHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.once('data', (data: Buffer) => {
        resolve(data);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      tlsConnect({ host: '127.0.0.1', port, servername }).on('error', () => {});
    });
  });
}

describe('parseClientHello', () => {
  it("reads the server name from a real client's hello", async () => {
    const hello = await realHello('api.example.test');
    assert.deepEqual(parseClientHello(hello, 65536), {
      kind: 'hello',
      serverName: 'api.example.test',
      ech: false,
    });
  });

  it('reports incomplete for every proper prefix, never an error', async () => {
    const hello = await realHello('prefix.example.test');
    for (let length = 0; length < hello.length; length++) {
      assert.equal(parseClientHello(hello.subarray(0, length), 65536).kind, 'incomplete', `prefix ${length}`);
    }
  });

  it('reassembles a hello split into one-byte records', async () => {
    const hello = Buffer.concat(refragment(await realHello('split.example.test'), 1));
    assert.deepEqual(parseClientHello(hello, 65536), {
      kind: 'hello',
      serverName: 'split.example.test',
      ech: false,
    });
  });

  it('reports a hello without server_name, and one with Encrypted Client Hello', () => {
    assert.deepEqual(parseClientHello(buildClientHello({}), 65536), {
      kind: 'hello',
      serverName: undefined,
      ech: false,
    });
    assert.deepEqual(parseClientHello(buildClientHello({ serverName: 'a.example.test', ech: true }), 65536), {
      kind: 'hello',
      serverName: 'a.example.test',
      ech: true,
    });
  });

  it('refuses ambiguity and garbage', () => {
    const error = (bytes: Buffer) => {
      const result = parseClientHello(bytes, 65536);
      assert.equal(result.kind, 'error', JSON.stringify(result));
    };
    error(buildClientHello({ serverNames: ['a.example.test', 'b.example.test'] }));
    error(buildClientHello({ serverName: 'bad name.example' }));
    const hello = buildClientHello({ serverName: 'a.example.test' });
    // An alert record where the hello should continue.
    const split = refragment(hello, 10);
    error(
      Buffer.concat([split[0]!, Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]), ...split.slice(1)]),
    );
    // A record length of zero, and one over 2^14.
    error(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]));
    error(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01]));
    // A first handshake message that is not a ClientHello.
    const serverHello = Buffer.from(hello);
    serverHello[5] = 0x02;
    error(serverHello);
    // Extra bytes after the hello inside its record.
    const padded = Buffer.concat([hello, Buffer.from([0, 0])]);
    padded.writeUInt16BE(hello.length - 5 + 2, 3);
    error(padded);
  });

  it('bounds the hello size and says so before buffering it', () => {
    const hello = buildClientHello({ serverName: 'a.example.test' });
    assert.deepEqual(parseClientHello(hello.subarray(0, 12), 16), {
      kind: 'error',
      detail: 'ClientHello too large',
    });
  });

  it('recognizes what is not TLS', () => {
    assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n'), 65536), { kind: 'not-tls' });
    assert.deepEqual(parseClientHello(Buffer.from([0x80, 0x2e, 0x01]), 65536), { kind: 'not-tls' });
  });
});
