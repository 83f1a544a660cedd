import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawn as spawnPty } from 'node-pty';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import {
  type BrokerHarness,
  principal,
  startBrokerHarness,
} from '../../controlplane/broker/support/broker-server.ts';
import { barePtyTarget, sandboxTarget } from '../../controlplane/broker/support/targets.ts';

// Issue 6 (control plane), `paddock connect`: the real CLI on a real pty (node-pty), through a
// real broker, into a shell in a real sandbox: raw keystrokes, resizes, the exit status.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));

interface PtyRun {
  output(): string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  type(text: string): void;
  resize(cols: number, rows: number): void;
  readonly exited: Promise<number>;
}

function runOnPty(args: string[], env: Record<string, string>, cols = 100, rows = 30): PtyRun {
  const pty = spawnPty(process.execPath, [PADDOCK, ...args], {
    cols,
    rows,
    env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color', ...env },
  });
  let text = '';
  pty.onData((data) => {
    text += data;
  });
  const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    output: () => text,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      const matches = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      while (!matches()) {
        if (Date.now() > deadline)
          assert.fail(`timed out waiting for ${pattern}; output: ${JSON.stringify(text.slice(-600))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    type: (input) => pty.write(input),
    resize: (c, r) => pty.resize(c, r),
    exited,
  };
}

describe('paddock connect', () => {
  const workspace = makeWorkspace();
  const home = mkdtempSync(join(tmpdir(), 'pdk-connect-'));
  let harness: BrokerHarness;
  let serverUrl: string;
  const saveSession = (session: object) => {
    mkdirSync(join(home, 'paddock'), { recursive: true });
    writeFileSync(join(home, 'paddock', 'session.json'), JSON.stringify(session), { mode: 0o600 });
  };
  before(async () => {
    harness = await startBrokerHarness({
      'ws-alice': { owner: 'alice@example.com', target: sandboxTarget('ws-alice', workspace.dir) },
      'ws-cat': { owner: 'alice@example.com', target: barePtyTarget('ws-cat', '/bin/cat') },
      'ws-bob': { owner: 'bob@example.com', target: barePtyTarget('ws-bob', '/bin/cat') },
    });
    harness.tokens.set('tok-alice', principal('alice@example.com', 'sess-cli'));
    harness.tokens.set('tok-alice-2', principal('alice@example.com', 'sess-cli-2'));
    serverUrl = harness.url.replace(/^ws:/, 'http:');
    saveSession({ server: serverUrl, token: 'tok-alice', expiresAt: Date.now() + 3_600_000 });
  });
  after(async () => {
    await harness.close();
    workspace.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs an interactive shell in the sandbox: raw keys, resize, exit status', async () => {
    const run = runOnPty(['connect', 'ws-alice'], { XDG_CONFIG_HOME: home });
    run.type('echo "via-cli-$((3*4))-$(id -u)"; stty size\r');
    await run.waitFor('via-cli-12-1000');
    await run.waitFor('30 100');
    // ^C reaches the remote shell (raw mode), not this CLI: the shell lives on.
    run.type('sleep 30\r');
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.type('\x03');
    run.type('echo after-interrupt\r');
    await run.waitFor(/[\r\n]after-interrupt\r+\n/);
    // SIGWINCH on the local terminal becomes a resize of the remote one.
    run.resize(120, 40);
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.type('stty size\r');
    await run.waitFor('40 120');
    run.type('exit 5\r');
    assert.equal(await run.exited, 5);
  });

  it('takes PADDOCK_SERVER and PADDOCK_TOKEN over the saved session', async () => {
    const run = runOnPty(['connect', 'ws-cat'], {
      XDG_CONFIG_HOME: join(home, 'nowhere'),
      PADDOCK_SERVER: serverUrl,
      PADDOCK_TOKEN: 'tok-alice-2',
    });
    run.type('from-env\r');
    await run.waitFor('from-env\r\nfrom-env');
    await harness.broker.closeSessionTerminals('sess-cli-2', 'session revoked');
    assert.equal(await run.exited, 255, 'a terminal closed under it exits 255, as ssh does');
    assert.match(run.output(), /connection closed: session revoked/);
  });

  it("refuses another user's workspace, a missing and an expired session", async () => {
    const forbidden = runOnPty(['connect', 'ws-bob'], { XDG_CONFIG_HOME: home });
    assert.equal(await forbidden.exited, 1);
    assert.match(forbidden.output(), /PDK_AUTH_FORBIDDEN/);

    const none = runOnPty(['connect', 'ws-cat'], {
      XDG_CONFIG_HOME: join(home, 'nowhere'),
      HOME: join(home, 'nowhere'),
    });
    assert.equal(await none.exited, 1);
    assert.match(none.output(), /PDK_AUTH_NOT_SIGNED_IN/);

    const expiredHome = mkdtempSync(join(tmpdir(), 'pdk-connect-expired-'));
    mkdirSync(join(expiredHome, 'paddock'));
    writeFileSync(
      join(expiredHome, 'paddock', 'session.json'),
      JSON.stringify({
        server: serverUrl,
        token: 'tok-alice',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    const expired = runOnPty(['connect', 'ws-cat'], { XDG_CONFIG_HOME: expiredHome });
    assert.equal(await expired.exited, 1);
    assert.match(expired.output(), /the saved session has expired/);
    rmSync(expiredHome, { recursive: true, force: true });
  });

  it('--stdio relays bytes unchanged in ssh mode (ProxyCommand)', async () => {
    const child = spawn(process.execPath, [PADDOCK, 'connect', '--stdio', 'ws-cat'], {
      env: { PATH: '/usr/bin:/bin', XDG_CONFIG_HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
    });
    child.stdin.write('SSH-2.0-OpenSSH_test\r\n');
    const deadline = Date.now() + 10_000;
    while (!out.includes('SSH-2.0-OpenSSH_test') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /SSH-2\.0-OpenSSH_test/);
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (exitCode) => resolve(exitCode)),
    );
    assert.equal(code, 0);
    const ssh = harness.events.filter(
      (e) => (e['unmapped'] as { paddock?: { mode?: string } } | undefined)?.paddock?.mode === 'ssh',
    );
    assert.ok(
      ssh.some((e) => e.metadata.event_code === 'terminal.attached'),
      'the SSH attach is audited',
    );
  });
});
