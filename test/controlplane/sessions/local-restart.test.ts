import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import {
  type StandaloneEmbeddedIdp,
  startEmbeddedIdp,
} from '../../../src/controlplane/identity/embedded-idp.ts';
import {
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../../src/controlplane/local-control-plane.ts';
import { openLocalSessionKey, sessionKeyPath } from '../../../src/controlplane/sessions/session-key.ts';
import { sessionIdFor } from '../../../src/controlplane/sessions/session-token.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { bearer, loginToken } from '../http/harness.ts';

// `paddock up` restarted: the control plane as the CLI wires it (SQLite under the data
// directory), signed in to through an IdP on its own origin (a real oidc-provider, as a company
// IdP would be, which outlives the restart). The session survives the restart: accepted and
// re-checked with the IdP by the new process, its refresh token opened with the session key
// generated once under the data directory (mode 0600). With the embedded IdP (the default), its
// grants are kept sealed under the data directory, so the same holds.

const CONFIG_DIR = resolve(import.meta.dirname, '../../../examples/platform');
const SECRET = 'local-restart-client-secret-0123456789';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

function withExternalIdp(state: DesiredState, issuer: string): DesiredState {
  const platform = state.platform!;
  const spec = platform.value.spec;
  const identity = {
    ...spec.identity,
    provider: 'oidc' as const,
    issuer,
    clientId: 'paddock-web',
    clientSecretEnv: 'PADDOCK_OIDC_SECRET',
    cliClientId: 'paddock-cli',
    extraScopes: ['groups'],
    demoUsers: [],
  };
  return { ...state, platform: { ...platform, value: { ...platform.value, spec: { ...spec, identity } } } };
}

describe('paddock up restart keeps sessions', () => {
  const dataDir = mkdtempSync('/tmp/paddock-restart-');
  let idp: StandaloneEmbeddedIdp;
  let state: DesiredState;
  let port: number;
  let plane: LocalControlPlane | undefined;

  const start = () =>
    startLocalControlPlane({
      state,
      configDir: CONFIG_DIR,
      dataDir,
      port,
      startDemoWorkspace: false,
      reconcileIntervalMs: 3_600_000,
      env: { PADDOCK_OIDC_SECRET: SECRET },
    });

  before(async () => {
    port = await freePort();
    idp = await startEmbeddedIdp({
      accounts: [{ email: 'ada@example.com', name: 'Ada', groups: ['platform-admins'] }],
      webClient: {
        clientId: 'paddock-web',
        clientSecret: SECRET,
        redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
      },
      cliClientId: 'paddock-cli',
    });
    state = withExternalIdp((await requireValidRepository(CONFIG_DIR)).state, idp.issuer);
  });
  after(async () => {
    await plane?.close();
    await idp?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('accepts and re-checks after a restart a session started before it', async () => {
    plane = await start();
    const token = await loginToken(plane.server.publicOrigin, 'ada@example.com');
    const id = sessionIdFor(token) as string;
    assert.equal(
      (await fetch(`${plane.server.publicOrigin}/api/me`, { headers: bearer(token) })).status,
      200,
    );
    const keyFile = sessionKeyPath(dataDir);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const keyBefore = readFileSync(keyFile, 'utf8');
    await plane.close();
    plane = undefined;

    plane = await start();
    assert.equal(readFileSync(keyFile, 'utf8'), keyBefore, 'the key is generated once');
    const me = await fetch(`${plane.server.publicOrigin}/api/me`, { headers: bearer(token) });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: { id: string } }).user.id, 'ada@example.com');
    assert.equal(await plane.server.sessions.refresh(id), true);
    assert.equal(
      (await fetch(`${plane.server.publicOrigin}/api/me`, { headers: bearer(token) })).status,
      200,
    );
    // Sign-out still ends it for good.
    await plane.server.sessions.logout(id);
    assert.equal(
      (await fetch(`${plane.server.publicOrigin}/api/me`, { headers: bearer(token) })).status,
      401,
    );
  });

  it('keeps sessions signed in through the embedded IdP too (its grants sealed under the data directory)', async () => {
    const embeddedDir = mkdtempSync('/tmp/paddock-restart-embedded-');
    const embeddedPort = await freePort();
    const example = (await requireValidRepository(CONFIG_DIR)).state;
    assert.equal(example.platform?.value.spec.identity.provider, 'embedded');
    const startEmbedded = () =>
      startLocalControlPlane({
        state: example,
        configDir: CONFIG_DIR,
        dataDir: embeddedDir,
        port: embeddedPort,
        startDemoWorkspace: false,
        reconcileIntervalMs: 3_600_000,
        env: {},
      });
    let local: LocalControlPlane | undefined = await startEmbedded();
    try {
      const token = await loginToken(local.server.publicOrigin, 'alice@example.com');
      const id = sessionIdFor(token) as string;
      await local.close();
      local = undefined;
      const stateFile = readFileSync(join(embeddedDir, 'embedded-idp-state'), 'utf8');
      assert.match(stateFile, /^v1\.[A-Za-z0-9_-]+\n$/, 'the IdP state is stored sealed');
      assert.equal(statSync(join(embeddedDir, 'embedded-idp-state')).mode & 0o777, 0o600);

      local = await startEmbedded();
      assert.equal(
        (await fetch(`${local.server.publicOrigin}/api/me`, { headers: bearer(token) })).status,
        200,
      );
      assert.equal(await local.server.sessions.refresh(id), true, 'the restarted IdP still knows the grant');
      assert.equal(
        (await fetch(`${local.server.publicOrigin}/api/me`, { headers: bearer(token) })).status,
        200,
      );
    } finally {
      await local?.close();
      rmSync(embeddedDir, { recursive: true, force: true });
    }
  });

  it('refuses a session key file readable by others', async () => {
    const dir = mkdtempSync('/tmp/paddock-restart-key-');
    try {
      openLocalSessionKey(dir);
      chmodSync(join(dir, 'session-key'), 0o644);
      assert.throws(
        () => openLocalSessionKey(dir),
        (error: unknown) => isPaddockError(error, 'PDK_AUTH_SESSION_KEY'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
