import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PaddockError } from '../../src/core/errors.ts';
import type { ReviewerIdentity, ReviewInbox, ReviewView } from '../../src/policy/index.ts';
import {
  callReviewSocket,
  MAX_REQUEST_BYTES,
  reviewSocketClient,
  serveReviewSocket,
} from '../../src/supervisor/index.ts';

// The review socket as transport: permissions, one bounded JSON line each way, errors with their
// codes, local identity resolved by the server. The inbox is a recording stand-in here; the real
// queue behind the real socket is exercised by test/cli/commands/review.test.ts.

const dir = mkdtempSync(join(tmpdir(), 'paddock-review-socket-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;
const nextPath = () => join(dir, `s${++sockets}`, 'review.sock');

function recordingInbox() {
  const calls: unknown[][] = [];
  const view = (id: string) => ({ id, status: 'pending' }) as unknown as ReviewView;
  const inbox: ReviewInbox = {
    list: async (filter) => {
      calls.push(['list', filter]);
      return [view('rv-1')];
    },
    show: async (id) => {
      calls.push(['show', id]);
      if (id === 'rv-missing')
        throw new PaddockError('PDK_REVIEW_NOT_FOUND', `review request ${id} not found`);
      if (id === 'rv-bug') throw new Error('secret internal detail');
      return view(id);
    },
    approve: async (id, reviewer: ReviewerIdentity, reason) => {
      calls.push(['approve', id, reviewer, reason]);
      return view(id);
    },
    deny: async (id, reviewer: ReviewerIdentity, reason) => {
      calls.push(['deny', id, reviewer, reason]);
      return view(id);
    },
  };
  return { inbox, calls };
}

const groupsOf = async (account: string) => (account === 'bob' ? ['appsec', 'dev'] : []);

function rawExchange(path: string, payload: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let out = '';
    socket.on('data', (chunk) => {
      out += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.on('connect', () => socket.end(payload));
  });
}

describe('review socket', () => {
  it('serves list, show, approve and deny, resolving the reviewer and groups itself', async () => {
    const { inbox, calls } = recordingInbox();
    const server = await serveReviewSocket({ path: nextPath(), inbox, groupsOf });
    try {
      assert.equal(statSync(server.path).mode & 0o777, 0o600);
      const client = reviewSocketClient({ path: server.path });
      assert.deepEqual(await client.list({ status: 'pending' }), [{ id: 'rv-1', status: 'pending' }]);
      assert.deepEqual(await client.show('rv-2'), { id: 'rv-2', status: 'pending' });
      await client.answer('approve', 'rv-2', { reason: 'ok', login: 'bob' });
      await client.answer('deny', 'rv-3', { reason: 'no', login: 'alice', as: 'bob' });
      await client.answer('approve', 'rv-4', { reason: 'ok', login: 'alice', as: 'lead@example.com' });
      assert.deepEqual(calls, [
        ['list', { status: 'pending', limit: undefined }],
        ['show', 'rv-2'],
        ['approve', 'rv-2', { id: 'bob', name: 'bob', groups: ['appsec', 'dev'] }, 'ok'],
        [
          'deny',
          'rv-3',
          { id: 'bob', groups: ['appsec', 'dev'], assertedBy: 'asserted with --as by local user alice' },
          'no',
        ],
        [
          'approve',
          'rv-4',
          { id: 'lead@example.com', groups: [], assertedBy: 'asserted with --as by local user alice' },
          'ok',
        ],
      ]);
    } finally {
      await server.close();
    }
  });

  it('returns exposed errors with their code and hides the rest', async () => {
    const server = await serveReviewSocket({ path: nextPath(), inbox: recordingInbox().inbox, groupsOf });
    try {
      const client = reviewSocketClient({ path: server.path });
      await assert.rejects(client.show('rv-missing'), {
        code: 'PDK_REVIEW_NOT_FOUND',
        message: 'review request rv-missing not found',
      });
      await assert.rejects(client.show('rv-bug'), {
        code: 'PDK_INTERNAL',
        message: "internal error: see the supervisor's log",
      });
      await assert.rejects(callReviewSocket({ path: server.path }, { op: 'show', id: '../etc' }), {
        code: 'PDK_REVIEW_INVALID',
        message: 'review socket request: id must be a review id',
      });
      await assert.rejects(
        callReviewSocket({ path: server.path }, { op: 'approve', id: 'rv-1', reason: 'x', login: 'a b' }),
        { code: 'PDK_REVIEW_INVALID', message: 'review socket request: login must be a local account name' },
      );
      const answer = await rawExchange(server.path, 'not json\n');
      assert.deepEqual(JSON.parse(answer), {
        ok: false,
        error: { code: 'PDK_REVIEW_INVALID', message: 'review socket request: not a JSON object' },
      });
      const oversize = await rawExchange(server.path, Buffer.alloc(MAX_REQUEST_BYTES + 10, 'a'));
      assert.equal(JSON.parse(oversize).error.code, 'PDK_REVIEW_INVALID');
    } finally {
      await server.close();
    }
  });

  it('refuses a second server on a live socket and replaces a stale one', async () => {
    const path = nextPath();
    const first = await serveReviewSocket({ path, inbox: recordingInbox().inbox, groupsOf });
    await assert.rejects(serveReviewSocket({ path, inbox: recordingInbox().inbox, groupsOf }), {
      code: 'PDK_REVIEW_SOCKET',
      message: `review socket ${path}: another paddock run already serves reviews here; stop it or choose another socket`,
    });
    await first.close();
    // A killed supervisor leaves its socket file behind with nobody listening.
    const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok(lstatSync(path).isSocket());
    const again = await serveReviewSocket({ path, inbox: recordingInbox().inbox, groupsOf });
    try {
      assert.deepEqual(await reviewSocketClient({ path }).list(), [{ id: 'rv-1', status: 'pending' }]);
    } finally {
      await again.close();
    }
  });

  it('refuses a path that is not a socket and a directory others may write', async () => {
    const file = nextPath();
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(file, 'data');
    await assert.rejects(serveReviewSocket({ path: file, inbox: recordingInbox().inbox }), {
      code: 'PDK_REVIEW_SOCKET',
      message: `review socket ${file}: the path exists and is not a socket; choose another path`,
    });
    const open = join(dir, 'shared');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    await assert.rejects(
      serveReviewSocket({ path: join(open, 'review.sock'), inbox: recordingInbox().inbox }),
      {
        code: 'PDK_REVIEW_SOCKET',
        message: `review socket ${join(open, 'review.sock')}: directory ${open} is writable by others (mode 777); use a private directory`,
      },
    );
  });

  it('reports a socket nobody serves as unavailable', async () => {
    const path = join(dir, 'nobody', 'review.sock');
    await assert.rejects(reviewSocketClient({ path }).list(), {
      code: 'PDK_REVIEW_UNAVAILABLE',
      message: `no review socket answers at ${path} (ENOENT): is a paddock run with review gates running?`,
    });
  });
});
