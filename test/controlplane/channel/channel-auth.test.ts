import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
  CHANNEL_AUDIENCE,
  CLOSE,
  encodeData,
  generateIdentity,
  MAX_FRAME_BYTES,
  signChannelCredential,
  type WorkspaceIdentity,
} from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { dial, dialAndHello, startChannel } from './channel-support.ts';

// The channel's front door, attacked: only a fresh credential signed by the workspace's
// active key opens a connection, and only for that workspace; anything malformed closes it.

describe('workspace channel authentication', () => {
  let channel: Awaited<ReturnType<typeof startChannel>>;
  let alpha: WorkspaceIdentity;
  let beta: WorkspaceIdentity;
  before(async () => {
    channel = await startChannel();
    alpha = await channel.registry.issue('ws-alpha');
    beta = await channel.registry.issue('ws-beta');
  });
  after(() => channel.server.close());

  const url = () => channel.server.url;

  it('accepts a fresh credential of the active key and says welcome', async () => {
    const connection = await dialAndHello(url(), await signChannelCredential(alpha), 'ws-alpha');
    assert.equal(channel.server.isConnected('ws-alpha'), true);
    connection.ws.close();
    assert.equal(await connection.closed, 1005);
  });

  it('refuses no credential, a non-JWT and the wrong path', async () => {
    assert.deepEqual(await dial(url(), undefined), { status: 401 });
    assert.deepEqual(await dial(url(), 'not-a-jwt'), { status: 401 });
    const wrongPath = url().replace('/channel', '/other');
    assert.deepEqual(await dial(wrongPath, await signChannelCredential(alpha)), { status: 404 });
  });

  it('refuses a credential signed by a key the control plane never issued', async () => {
    const { identity: stranger } = await generateIdentity('ws-alpha');
    assert.deepEqual(await dial(url(), await signChannelCredential(stranger)), { status: 401 });
  });

  it('refuses the wrong key under a registered key id (a forged signature)', async () => {
    const { identity: forger } = await generateIdentity('ws-alpha');
    const forged = await signChannelCredential({ ...forger, kid: alpha.kid });
    assert.deepEqual(await dial(url(), forged), { status: 401 });
  });

  it('refuses a replayed credential', async () => {
    const token = await signChannelCredential(alpha);
    const first = await dialAndHello(url(), token, 'ws-alpha');
    assert.deepEqual(await dial(url(), token), { status: 401 });
    first.ws.close();
  });

  it('refuses an expired credential and one that lives too long', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    assert.deepEqual(await dial(url(), await signChannelCredential(alpha, { nowS: nowS - 300 })), {
      status: 401,
    });
    assert.deepEqual(await dial(url(), await signChannelCredential(alpha, { lifetimeS: 3600 })), {
      status: 401,
    });
  });

  it('refuses a credential of one workspace claiming another (sub, audience, algorithm)', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const { createPrivateKey } = await import('node:crypto');
    const key = createPrivateKey(alpha.privateKeyPem);
    const claim = (subject: string, audience: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', kid: alpha.kid })
        .setIssuer(subject)
        .setSubject(subject)
        .setAudience(audience)
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + 30)
        .setJti(randomUUID())
        .sign(key);
    assert.deepEqual(await dial(url(), await claim('ws-beta', CHANNEL_AUDIENCE)), { status: 401 });
    assert.deepEqual(await dial(url(), await claim('ws-alpha', 'another-audience')), { status: 401 });
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: alpha.kid })
      .setSubject('ws-alpha')
      .setIssuer('ws-alpha')
      .setAudience(CHANNEL_AUDIENCE)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 30)
      .setJti(randomUUID())
      .sign(new TextEncoder().encode('x'.repeat(32)));
    assert.deepEqual(await dial(url(), hmac), { status: 401 });
    // An Ed25519 key that is not registered, presenting beta's kid.
    const { privateKey } = generateKeyPairSync('ed25519');
    const borrowed = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: beta.kid })
      .setSubject('ws-beta')
      .setIssuer('ws-beta')
      .setAudience(CHANNEL_AUDIENCE)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 30)
      .setJti(randomUUID())
      .sign(privateKey);
    assert.deepEqual(await dial(url(), borrowed), { status: 401 });
  });

  it('closes a connection whose hello names another workspace, and never marks either connected', async () => {
    const result = await dial(url(), await signChannelCredential(beta));
    assert.ok(!('status' in result));
    result.ws.send(
      JSON.stringify({ t: 'hello', workspaceId: 'ws-alpha', supervisorVersion: '1', protocol: 1 }),
    );
    assert.equal(await result.closed, CLOSE.protocol);
    assert.equal(channel.server.isConnected('ws-beta'), false);
  });

  it('closes on malformed frames: not JSON, unknown message, data before hello, bad binary', async () => {
    const frames: (string | Buffer)[] = [
      '{not json',
      JSON.stringify({ t: 'launch_missiles' }),
      JSON.stringify({
        t: 'hello',
        workspaceId: 'ws-alpha',
        supervisorVersion: '1',
        protocol: 1,
        extra: true,
      }),
      encodeData(1, Buffer.from('early')),
      Buffer.from([9, 9, 9]),
    ];
    for (const frame of frames) {
      const result = await dial(url(), await signChannelCredential(alpha));
      assert.ok(!('status' in result));
      result.ws.send(frame);
      assert.equal(await result.closed, CLOSE.protocol, `frame ${String(frame).slice(0, 40)}`);
    }
  });

  it('closes on an oversized frame and on data for a stream never opened', async () => {
    const big = await dialAndHello(url(), await signChannelCredential(alpha), 'ws-alpha');
    big.ws.send(JSON.stringify({ t: 'heartbeat', pad: 'x'.repeat(MAX_FRAME_BYTES + 1) }));
    assert.equal(await big.closed, 1009);
    const stray = await dialAndHello(url(), await signChannelCredential(alpha), 'ws-alpha');
    stray.ws.send(encodeData(7, Buffer.from('stray')));
    assert.equal(await stray.closed, CLOSE.protocol);
  });

  it('drops a connection that stops sending heartbeats', async () => {
    const quick = await startChannel({ heartbeatMs: 200 });
    try {
      const identity = await quick.registry.issue('ws-quiet');
      const quiet = await dialAndHello(quick.server.url, await signChannelCredential(identity), 'ws-quiet');
      assert.equal(await quiet.closed, CLOSE.heartbeat);
      assert.equal(quick.server.isConnected('ws-quiet'), false);
    } finally {
      await quick.server.close();
    }
  });

  it('revocation closes the live connection and refuses the key and any new identity', async () => {
    const gamma = await channel.registry.issue('ws-gamma');
    const live = await dialAndHello(url(), await signChannelCredential(gamma), 'ws-gamma');
    await channel.server.revoke('ws-gamma');
    assert.equal(await live.closed, CLOSE.revoked);
    assert.deepEqual(await dial(url(), await signChannelCredential(gamma)), { status: 401 });
    await assert.rejects(channel.registry.issue('ws-gamma'), (error) =>
      isPaddockError(error, 'PDK_CHANNEL_UNAUTHENTICATED'),
    );
  });

  it('a re-issued identity retires the previous key', async () => {
    const first = await channel.registry.issue('ws-delta');
    const second = await channel.registry.issue('ws-delta');
    assert.deepEqual(await dial(url(), await signChannelCredential(first)), { status: 401 });
    const ok = await dialAndHello(url(), await signChannelCredential(second), 'ws-delta');
    ok.ws.close();
  });

  it('a terminal of a workspace that is not connected is refused with a coded error', async () => {
    await assert.rejects(
      channel.server
        .target('ws-nowhere')
        .open({ cols: 80, rows: 24, mode: 'shell', userId: 'u', attachId: 'a' }),
      (error) => isPaddockError(error, 'PDK_CHANNEL_NOT_CONNECTED'),
    );
  });
});
