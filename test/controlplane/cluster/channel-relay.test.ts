import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChannelRelay,
  ClusterBus,
  CLUSTER_TOPICS,
  type LocalChannel,
} from '../../../src/controlplane/cluster/index.ts';
import { CLOSE } from '../../../src/core/channel/index.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';

// Channel events across replicas over a real PostgreSQL: a revoke handled on replica A closes
// the connection held by replica B. The replicas' channel servers are RECORDING STAND-INS (the
// relay only calls disconnect/notifyRelease); the bus and PostgreSQL are real.

function recordingChannel(): LocalChannel & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    disconnect: (...args: unknown[]) => {
      calls.push(['disconnect', ...args]);
    },
    notifyRelease: (...args: unknown[]) => {
      calls.push(['notifyRelease', ...args]);
      return 1;
    },
  };
}

async function until(probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('channel relay between replicas (recording stand-in channel servers, real PostgreSQL)', () => {
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  const buses: ClusterBus[] = [];

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_relay');
  });
  after(async () => {
    for (const bus of buses) await bus.close();
    await dropDatabase(url);
    await server.release();
  });

  async function replica(name: string) {
    const bus = new ClusterBus({ url, replicaId: name });
    buses.push(bus);
    await bus.start();
    const channel = recordingChannel();
    const relay = new ChannelRelay(bus, channel);
    await relay.start();
    return { bus, channel, relay };
  }

  it('a revoke on A closes the connection on B with the revoked close code; A applies it once', async () => {
    const a = await replica('a');
    const b = await replica('b');
    await a.relay.revoked('ws-0123456789ab');
    await until(() => b.channel.calls.length > 0);
    assert.deepEqual(b.channel.calls, [['disconnect', 'ws-0123456789ab', CLOSE.revoked, 'revoked']]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(
      a.channel.calls,
      [['disconnect', 'ws-0123456789ab', CLOSE.revoked, 'revoked']],
      'not twice on A',
    );

    await b.relay.release('stable', 7);
    await until(() => a.channel.calls.length > 1);
    assert.deepEqual(a.channel.calls.at(-1), ['notifyRelease', 'stable', 7]);
  });

  it('malformed events on the topic are ignored, not applied', async () => {
    const c = await replica('c');
    const before = c.channel.calls.length;
    const rogue = new ClusterBus({ url, replicaId: 'rogue' });
    buses.push(rogue);
    await rogue.publish(CLUSTER_TOPICS.channel, { type: 'revoked', workspaceId: 42 });
    await rogue.publish(CLUSTER_TOPICS.channel, { type: 'release', channel: 'stable', version: 'x' });
    await rogue.publish(CLUSTER_TOPICS.channel, { type: 'disconnect', workspaceId: 'ws-ok' });
    await until(() => c.channel.calls.length > before);
    assert.deepEqual(c.channel.calls.slice(before), [['disconnect', 'ws-ok']]);
  });
});
