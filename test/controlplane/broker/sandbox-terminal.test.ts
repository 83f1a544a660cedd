import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { listRecordings, readRecording } from '../../../src/controlplane/broker/recording.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { type BrokerHarness, principal, startBrokerHarness } from './support/broker-server.ts';
import { sandboxTarget } from './support/targets.ts';
import { connectTerminal } from './support/terminal-client.ts';

// Issue 6 (control plane), access broker: a real command in a real agent sandbox, typed through
// a real WebSocket, relayed by the broker, recorded as asciicast v2 and audited with its SHA-256.

describe('terminal broker with a sandboxed shell', () => {
  const workspace = makeWorkspace();
  const target = sandboxTarget('ws-alice', workspace.dir);
  let harness: BrokerHarness;
  before(async () => {
    harness = await startBrokerHarness({ 'ws-alice': { owner: 'alice@example.com', target } });
    harness.tokens.set('tok-alice', principal('alice@example.com', 'sess-alice'));
  });
  after(async () => {
    await harness.close();
    workspace.remove();
  });

  it('runs a command in the sandbox, resizes, relays the exit status, and records the session', async () => {
    const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', cols: 90, rows: 30 });
    client.type('echo "inside-$((6*7))-$(id -u)-$(hostname)"; stty size\r');
    await client.waitFor(/inside-42-1000-\S+/);
    await client.waitFor('30 90');
    client.resize(120, 40);
    client.type('stty size; touch /workspace/made-here; ls /home\r');
    await client.waitFor('40 120');
    client.type('exit 3\r');
    const closed = await client.closed;
    assert.equal(closed.code, 1000);
    assert.deepEqual(client.controls, [{ type: 'exit', exitCode: 3, signal: null }]);
    assert.ok(statSync(`${workspace.dir}/made-here`).isFile(), 'the shell wrote into the workspace');

    // Sealed recording: listed, 0600, hashed, asciicast v2.
    let recordings = await listRecordings(harness.recordingsDir, { workspaceId: 'ws-alice' });
    for (let i = 0; i < 50 && !recordings[0]?.sha256; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      recordings = await listRecordings(harness.recordingsDir, { workspaceId: 'ws-alice' });
    }
    assert.equal(recordings.length, 1);
    const info = recordings[0]!;
    assert.equal(info.userId, 'alice@example.com');
    assert.equal(info.sessionId, 'sess-alice');
    assert.equal(info.exitCode, 3);
    const { open } = await readRecording(harness.recordingsDir, info.id);
    const path = `${harness.recordingsDir}/${info.id}.cast`;
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(harness.recordingsDir).mode & 0o777, 0o700);
    const bytes = readFileSync(path);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), info.sha256);
    const streamed: Buffer[] = [];
    for await (const chunk of open()) streamed.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(streamed), bytes);
    const [header, ...lines] = bytes
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(header.version, 2);
    assert.deepEqual([header.width, header.height], [90, 30]);
    assert.equal(typeof header.timestamp, 'number');
    const output = lines
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    assert.match(output, /inside-42-1000/);
    assert.ok(
      lines.some((e) => e[1] === 'r' && e[2] === '120x40'),
      'resize recorded',
    );
    assert.ok(!lines.some((e) => e[1] === 'i'), 'input is not recorded by default');
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i][0] >= lines[i - 1][0], 'times never go back');

    // Audit: attached, then recorded with the same digest.
    const names = harness.events.map((e) => e.metadata.event_code);
    assert.deepEqual(names, ['terminal.attached', 'terminal.recorded']);
    const recorded = harness.events[1]!;
    assert.deepEqual((recorded['file'] as { hashes: unknown }).hashes, [
      { algorithm_id: 3, algorithm: 'SHA-256', value: info.sha256 },
    ]);
    assert.deepEqual(harness.broker.listLiveTerminals(), []);
  });
});
