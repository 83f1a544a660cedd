import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryStringToBytes,
  clampSize,
  describeControl,
  parseServerControl,
  resizeMessage,
  terminalUrl,
} from '../../src/console/app/terminal-protocol.ts';
import { parseClientControl, parseAttachQuery } from '../../src/controlplane/broker/protocol.ts';

describe('console terminal protocol', () => {
  it('dials the page origin, wss under https', () => {
    assert.equal(
      terminalUrl({ protocol: 'https:', host: 'paddock.example.com' }, 'ws 1/x', 120, 40),
      'wss://paddock.example.com/api/workspaces/ws%201%2Fx/terminal?cols=120&rows=40',
    );
    assert.equal(
      terminalUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'w', 80, 24),
      'ws://127.0.0.1:8080/api/workspaces/w/terminal?cols=80&rows=24',
    );
  });

  it('sends sizes the broker accepts, also from a very large window', () => {
    assert.deepEqual(clampSize(5000, 0), { cols: 1000, rows: 1 });
    for (const [cols, rows] of [
      [80, 24],
      [5000, 900],
      [0, -3],
      [Number.NaN, 12.7],
    ] as const) {
      assert.ok(parseClientControl(resizeMessage(cols, rows)), `broker accepts resize ${cols}x${rows}`);
      const query = new URL(terminalUrl({ protocol: 'http:', host: 'h' }, 'w', cols, rows)).searchParams;
      assert.doesNotThrow(() => parseAttachQuery(query), `broker accepts attach ${cols}x${rows}`);
    }
  });

  it('reads the server control messages and ignores anything else', () => {
    assert.deepEqual(parseServerControl('{"type":"exit","exitCode":0,"signal":null}'), {
      type: 'exit',
      exitCode: 0,
      signal: null,
    });
    assert.deepEqual(parseServerControl('{"type":"closed","reason":"session revoked"}'), {
      type: 'closed',
      reason: 'session revoked',
    });
    assert.equal(parseServerControl('{"type":"eval","code":"x"}'), undefined);
    assert.equal(parseServerControl('not json'), undefined);
    assert.equal(parseServerControl('null'), undefined);
  });

  it('says how a terminal ended', () => {
    assert.equal(
      describeControl({ type: 'exit', exitCode: 3, signal: null }),
      'The shell exited with code 3.',
    );
    assert.equal(
      describeControl({ type: 'exit', exitCode: null, signal: 'SIGKILL' }),
      'The shell ended on signal SIGKILL.',
    );
    assert.equal(
      describeControl({ type: 'closed', reason: 'expired' }),
      'Closed by the control plane: expired',
    );
  });

  it('passes xterm binary strings through as the same bytes', () => {
    assert.deepEqual([...binaryStringToBytes('\x00\x1b\xff')], [0, 27, 255]);
  });
});
