import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.ts';
import {
  approveDeviceCode,
  bearer,
  type Harness,
  loginToken,
  startHarness,
} from '../../controlplane/http/harness.ts';
import { runCli } from './run-cli.ts';

// `paddock login`, `paddock session list|revoke` and `paddock logout` through main(), against a
// real control plane with the embedded IdP: the device flow is approved in a "browser" (fetch)
// while the command waits, and the session file is checked for its place and mode.

describe('paddock login and paddock session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-login-'));
  const env = { XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir };
  let h: Harness;
  before(async () => {
    h = await startHarness({ storeUrl: `sqlite:${join(dir, 'store.db')}`, sweepIntervalMs: 60_000 });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the device flow and saves the session (mode 0600)', async () => {
    let stdout = '';
    let stderr = '';
    let approved: Promise<void> | undefined;
    const code = await main(['login', '--server', h.origin], {
      stdout: new Writable({
        write(chunk, _encoding, done) {
          stdout += String(chunk);
          done();
        },
      }),
      stderr: new Writable({
        write(chunk, _encoding, done) {
          stderr += String(chunk);
          const match = /open (\S+)\nand check that it shows the code (\S+)/.exec(stderr);
          if (match && !approved)
            approved = approveDeviceCode(match[1] as string, match[2] as string, 'bob@example.com');
          done();
        },
      }),
      env,
      cwd: dir,
    });
    await approved;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^signed in to http:\/\/127\.0\.0\.1:\d+ as Bob Reviewer <bob@example.com> until /);
    const file = join(dir, 'config', 'paddock', 'session.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { server: string; token: string; user: string };
    assert.deepEqual([saved.server, saved.user], [h.origin, 'bob@example.com']);
    assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(saved.token) })).status, 200);
  });

  it('lists and revokes sessions, then refuses the revoked one', async () => {
    const other = await loginToken(h.origin, 'bob@example.com');
    const list = await runCli(['session', 'list', '--json'], dir, env);
    assert.equal(list.code, 0, list.stderr);
    const { sessions } = JSON.parse(list.stdout) as { sessions: { id: string; userId: string }[] };
    assert.equal(sessions.length, 2);
    const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(other) })).json()) as {
      session: { id: string };
    };
    const revoked = await runCli(['session', 'revoke', me.session.id], dir, env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(other) })).status, 401);
    // Someone else's sessions: refused for a non-admin.
    const refused = await runCli(['session', 'revoke', '--user', 'carol@example.com'], dir, env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /PDK_AUTH_FORBIDDEN/);
    const usage = await runCli(['session', 'revoke'], dir, env);
    assert.equal(usage.code, 2);
  });

  it('needs a server to sign in to', async () => {
    const out = await runCli(['login'], dir, { XDG_CONFIG_HOME: join(dir, 'empty'), HOME: dir });
    assert.equal(out.code, 2);
    assert.match(out.stderr, /PDK_CLI_USAGE: paddock login needs --server URL/);
  });

  it('logs out: the session is revoked and the file removed', async () => {
    const saved = JSON.parse(readFileSync(join(dir, 'config', 'paddock', 'session.json'), 'utf8')) as {
      token: string;
    };
    const out = await runCli(['logout'], dir, env);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(saved.token) })).status, 401);
    const again = await runCli(['session', 'list'], dir, env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /PDK_AUTH_NOT_SIGNED_IN/);
  });
});
