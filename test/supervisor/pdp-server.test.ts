import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { isPaddockError } from '../../src/core/index.ts';
import { createDecisionPoint } from '../../src/policy/index.ts';
import { type PdpServer, type PdpServerOptions, startPdpServer } from '../../src/supervisor/pdp/index.ts';
import { assertValidOcsf } from '../audit/ocsf-schema.ts';
import { exampleBundles } from '../policy/pdp-fixtures.ts';

// The PDP on a real unix socket: newline-delimited JSON in order, malformed input answered
// with deny, an oversized line closes the connection, the principal comes from the supervisor,
// every answer is one OCSF event carrying the bundle, and the socket's mode lets exactly its
// owner (the sandbox uid) connect.

const root = mkdtempSync(join(tmpdir(), 'paddock-pdp-'));
chmodSync(root, 0o755);
let count = 0;
const servers: PdpServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  rmSync(root, { recursive: true, force: true });
});

async function serve(overrides: Partial<PdpServerOptions> = {}) {
  const { bundle } = (await exampleBundles()).get('code-review')!;
  const events: OcsfEvent[] = [];
  const socketPath = join(root, `s${count++}`, 'pdp.sock');
  const server = await startPdpServer({
    socketPath,
    decisionPoint: createDecisionPoint(bundle),
    principal: { session: 'session-1', user: 'alice', groups: ['engineering'] },
    emit: (event) => events.push(event),
    audit: {
      workspaceId: 'ws-1',
      sessionId: 'session-1',
      blueprint: { name: 'code-review', version: '1.3.0' },
    },
    ...overrides,
  });
  servers.push(server);
  return { server, events, socketPath, bundle };
}

/** One response line as the socket sends it. */
interface Answer {
  id: string | number | null;
  decision: string;
  reason: string;
  policyIds: string[];
  bundle: { id: string; version: string };
  detail?: string;
  error?: { code: string; message: string };
}

/** Sends raw bytes and collects `lines` answers (or whatever arrives before the server closes). */
function exchange(
  socketPath: string,
  chunks: (string | Buffer)[],
  lines: number,
): Promise<{ answers: Answer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    const answers: Answer[] = [];
    let closed = false;
    const finish = () => resolve({ answers, closed });
    socket.on('error', reject);
    socket.on('data', (data) => {
      buffer += data.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        answers.push(JSON.parse(buffer.slice(0, newline)));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
      if (answers.length >= lines) {
        socket.end();
        finish();
      }
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((done) => setTimeout(done, 5));
      }
    });
  });
}

describe('PDP socket server', () => {
  it('answers pipelined requests in order, lines split across writes included', async () => {
    const { socketPath, bundle, events } = await serve();
    const requests = [
      { id: 1, action: 'exec', argv: ['git', 'push', 'origin', 'main'] },
      {
        id: 'two',
        action: 'http_request',
        method: 'POST',
        url: 'https://api.github.com/repos/a/b/pulls/1/reviews',
      },
      { action: 'read_file', path: '/workspace/src/index.ts' },
    ];
    const text = requests.map((request) => JSON.stringify(request)).join('\n') + '\n';
    const { answers } = await exchange(
      socketPath,
      [text.slice(0, 30), text.slice(30, 95), text.slice(95)],
      3,
    );
    const ref = { id: bundle.id, version: bundle.version };
    assert.deepEqual(answers, [
      { id: 1, decision: 'deny', reason: 'command_denied', policyIds: ['commands.deny[6]'], bundle: ref },
      {
        id: 'two',
        decision: 'review',
        reason: 'review_required',
        policyIds: ['services[github].rules[1]', 'writes[0].review'],
        bundle: ref,
      },
      {
        id: null,
        decision: 'allow',
        reason: 'path_allowed',
        policyIds: ['dataScope.read[0]', 'dataScope.write[0]'],
        bundle: ref,
      },
    ]);
    assert.deepEqual(
      events.map((event) => [
        event.class_uid,
        event.metadata.event_code,
        (event['policy'] as { uid: string }).uid,
      ]),
      [
        [1007, 'exec.denied', bundle.id],
        [4002, 'http.review_requested', bundle.id],
        [1001, 'file.allowed', bundle.id],
      ],
    );
    assert.equal(events[0]!['status_code'] as string, 'command_denied');
    for (const event of events) assertValidOcsf(event);
    assert.equal((events[0]!['policy'] as { version: string }).version, bundle.version);
  });

  it('audits connect and MCP decisions in their own classes', async () => {
    const { socketPath, events } = await serve();
    const lines = [
      { action: 'connect', host: 'evil.example.com', port: 443 },
      { action: 'mcp_call', server: 'github', tool: 'submit_pending_review', arguments: {} },
    ];
    const { answers } = await exchange(
      socketPath,
      [lines.map((line) => `${JSON.stringify(line)}\n`).join('')],
      2,
    );
    assert.deepEqual(
      answers.map((answer) => answer.decision),
      ['deny', 'review'],
    );
    assert.deepEqual(
      events.map((event) => event.metadata.event_code),
      ['egress.denied', 'mcp.review_requested'],
    );
    for (const event of events) assertValidOcsf(event);
  });

  it('fails closed on malformed input and a principal the request tries to set', async () => {
    const { socketPath, events } = await serve();
    const { answers } = await exchange(
      socketPath,
      [
        'not json\n',
        '[1,2]\n',
        '{"id":{"x":1},"action":"exec"}\n',
        '{"id":5}\n',
        '{"id":6,"action":"exec","argv":["ls"],"principal":{"session":"root","user":"admin"}}\n',
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
        '{"id":8,"action":"exec","argv":"git status"}\n',
      ],
      7,
    );
    assert.deepEqual(
      answers.map((answer) => [answer.id, answer.decision, answer.reason, answer.error?.code]),
      [
        [null, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [null, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [null, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [5, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [6, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [null, 'deny', 'request_invalid', 'PDK_POLICY_REQUEST_INVALID'],
        [8, 'deny', 'request_invalid', undefined],
      ],
    );
    assert.equal(answers[4]!.error?.message, 'principal is set by the supervisor, not by the request');
    assert.equal(events.length, 7, 'every answer is audited');
    assert.equal(events[0]!.metadata.event_code, 'finding.created');
    for (const event of events) assertValidOcsf(event);
  });

  it('denies an oversized line and closes the connection', async () => {
    const { socketPath, events } = await serve({ maxLineBytes: 1024 });
    const big = JSON.stringify({ id: 1, action: 'exec', argv: ['echo', 'x'.repeat(2000)] });
    const { answers, closed } = await exchange(socketPath, [big.slice(0, 600), big.slice(600), '\n'], 5);
    assert.equal(closed, true);
    assert.deepEqual(
      answers.map((answer) => [answer.decision, answer.reason, answer.error?.code]),
      [['deny', 'request_too_large', 'PDK_POLICY_REQUEST_TOO_LARGE']],
    );
    assert.equal(events.length, 1);
  });

  it('answers deny when the decision cannot be audited', async () => {
    const { socketPath } = await serve({
      emit: () => {
        throw new Error('spool full');
      },
    });
    const { answers } = await exchange(socketPath, ['{"action":"read_file","path":"/workspace/a"}\n'], 1);
    assert.deepEqual(
      [answers[0]!.decision, answers[0]!.reason, answers[0]!.policyIds],
      ['deny', 'audit_unavailable', []],
    );
  });

  it('applies a new decision point atomically', async () => {
    const { socketPath, server } = await serve();
    const { bundle } = (await exampleBundles()).get('coding-agent')!;
    server.setDecisionPoint(createDecisionPoint(bundle));
    const { answers } = await exchange(
      socketPath,
      ['{"action":"exec","argv":["git","push","origin","feature"]}\n'],
      1,
    );
    assert.deepEqual([answers[0]!.decision, answers[0]!.bundle.id], ['allow', bundle.id]);
  });

  it('lets the socket owner connect and nobody else', async () => {
    const { socketPath } = await serve({ owner: { uid: 65534, gid: 65534 } });
    const stat = statSync(socketPath);
    assert.deepEqual([stat.isSocket(), stat.mode & 0o777, stat.uid], [true, 0o600, 65534]);
    const probe = (uid: number) =>
      new Promise<string>((resolve) => {
        const script = `const s=require('node:net').createConnection(${JSON.stringify(socketPath)});s.on('error',e=>{console.log(e.code);process.exit(0)});s.on('connect',()=>s.write('{"action":"exec","argv":["git","status"]}\\n'));s.on('data',d=>{console.log(JSON.parse(d).decision);process.exit(0)})`;
        const child = spawn(process.execPath, ['-e', script], { uid, gid: uid });
        let out = '';
        child.stdout.on('data', (data) => {
          out += data;
        });
        child.on('close', () => resolve(out.trim()));
      });
    assert.equal(await probe(65534), 'allow');
    assert.equal(await probe(65533), 'EACCES');
  });

  it('replaces a stale socket and refuses a path that is not a socket', async () => {
    // A socket file left by a supervisor that was killed: nothing listens on it any more.
    const stale = join(root, 'stale', 'pdp.sock');
    const script = `require('node:fs').mkdirSync(${JSON.stringify(join(root, 'stale'))});require('node:net').createServer().listen(${JSON.stringify(stale)},()=>console.log('up'))`;
    const child = spawn(process.execPath, ['-e', script]);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    assert.ok(statSync(stale).isSocket());
    const again = await serve({ socketPath: stale });
    const { answers } = await exchange(stale, ['{"action":"exec","argv":["git","status"]}\n'], 1);
    assert.equal(answers[0]!.decision, 'allow');
    await again.server.close();
    const file = join(root, 'not-a-socket');
    writeFileSync(file, '');
    const { bundle } = (await exampleBundles()).get('code-review')!;
    await assert.rejects(
      startPdpServer({
        socketPath: file,
        decisionPoint: createDecisionPoint(bundle),
        principal: { session: 's', user: 'u' },
        emit: () => {},
        audit: { workspaceId: 'ws-1', sessionId: 's' },
      }),
      (error) => isPaddockError(error, 'PDK_POLICY_SOCKET') && error.message.includes('is not a socket'),
    );
  });
});
