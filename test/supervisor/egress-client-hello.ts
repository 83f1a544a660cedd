import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

// Synthetic TLS ClientHellos and a record re-fragmenter, for the SNI tests. A real client's
// first flight can legally be split over many TLS records and TCP segments; the gateway
// must read the server name all the same.

/** A minimal TLS 1.2-style ClientHello record carrying `serverName` (and ECH when asked). */
export function buildClientHello(
  options: { serverName?: string; serverNames?: string[]; ech?: boolean } = {},
): Buffer {
  const extensions: Buffer[] = [];
  const names = options.serverNames ?? (options.serverName === undefined ? [] : [options.serverName]);
  if (names.length > 0) {
    const entries = Buffer.concat(
      names.map((name) => {
        const bytes = Buffer.from(name, 'latin1');
        return Buffer.concat([Buffer.from([0x00, bytes.length >> 8, bytes.length & 0xff]), bytes]);
      }),
    );
    const list = Buffer.concat([u16(entries.length), entries]);
    extensions.push(Buffer.concat([u16(0x0000), u16(list.length), list]));
  }
  if (options.ech) extensions.push(Buffer.concat([u16(0xfe0d), u16(4), Buffer.from([0, 1, 2, 3])]));
  const extensionBytes = Buffer.concat(extensions);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([0x00]),
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([0x01, 0x00]),
    u16(extensionBytes.length),
    extensionBytes,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

function u16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}

/** Splits the handshake payload of TLS records into records of at most `size` bytes each. */
export function refragment(records: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 5 <= records.length) {
    const type = records[at]!;
    const length = records.readUInt16BE(at + 3);
    const payload = records.subarray(at + 5, at + 5 + length);
    for (let offset = 0; offset < payload.length; offset += size) {
      const piece = payload.subarray(offset, offset + size);
      out.push(
        Buffer.concat([Buffer.from([type, records[at + 1]!, records[at + 2]!]), u16(piece.length), piece]),
      );
    }
    at += 5 + length;
  }
  return out;
}

/**
 * A duplex for tls.connect({ socket }) that re-fragments the client's first flight into
 * small TLS records, each written as its own TCP segment after a pause, then passes
 * everything through unchanged.
 */
export function fragmentingStream(socket: Socket, recordSize: number, pauseMs: number): Duplex {
  let first = true;
  const duplex = new Duplex({
    async write(chunk: Buffer, _encoding, callback) {
      if (first && chunk[0] === 0x16) {
        first = false;
        for (const record of refragment(chunk, recordSize)) {
          socket.write(record);
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
        return callback();
      }
      socket.write(chunk, callback);
    },
    read() {
      socket.resume();
    },
    final(callback) {
      socket.end();
      callback();
    },
  });
  socket.on('data', (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}
