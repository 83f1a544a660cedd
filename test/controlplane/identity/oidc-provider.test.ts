import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DesiredState } from '../../../src/config/index.ts';
import {
  type StandaloneEmbeddedIdp,
  startEmbeddedIdp,
} from '../../../src/controlplane/identity/embedded-idp.ts';
import { bearer, browserLogin, exampleState, type Harness, startHarness } from '../http/harness.ts';

// `identity.provider: oidc`: the control plane as a confidential client of an IdP on another
// origin, found by discovery (a real oidc-provider on its own port standing in for Keycloak,
// Entra ID or Okta), with the client secret from the environment.

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function withIdentity(state: DesiredState, identity: Record<string, unknown>): DesiredState {
  const platform = state.platform!;
  const spec = platform.value.spec;
  return {
    ...state,
    platform: {
      ...platform,
      value: { ...platform.value, spec: { ...spec, identity: { ...spec.identity, ...identity } } },
    },
  };
}

describe('sign-in against an external OIDC provider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-oidc-'));
  const secret = 'external-idp-client-secret-0123456789';
  let idp: StandaloneEmbeddedIdp;
  let h: Harness;
  let origin: string;
  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    idp = await startEmbeddedIdp({
      accounts: [{ email: 'Ada@Example.com', name: 'Ada', groups: ['platform-admins', 'appsec'] }],
      webClient: { clientId: 'paddock-web', clientSecret: secret, redirectUris: [`${origin}/auth/callback`] },
      cliClientId: 'paddock-cli',
    });
    const base = await exampleState();
    const state = withIdentity(base, {
      provider: 'oidc',
      issuer: idp.issuer,
      clientId: 'paddock-web',
      clientSecretEnv: 'PADDOCK_OIDC_SECRET',
      cliClientId: 'paddock-cli',
      extraScopes: ['groups'],
      demoUsers: [],
    });
    h = await startHarness({
      storeUrl: `sqlite:${join(dir, 'store.db')}`,
      state,
      env: { PADDOCK_OIDC_SECRET: secret },
      port,
    });
  });
  after(async () => {
    await h?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in by discovery, with the groups claim and a lowercased email as the user id', async () => {
    assert.equal(h.server.embeddedIdp, undefined);
    const { jar, callback } = await browserLogin(h.origin, 'ada@example.com');
    assert.equal(callback.status, 302);
    const token = jar.cookies.get('paddock_session') as string;
    const me = (await (await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).json()) as {
      user: { id: string; groups: string[] };
      admin: boolean;
      reviewer: boolean;
    };
    assert.deepEqual(me, {
      ...me,
      user: { ...me.user, id: 'ada@example.com', groups: ['platform-admins', 'appsec'] },
      admin: true,
      reviewer: true,
    });
    const config = (await (await fetch(`${h.origin}/api/auth/config`)).json()) as {
      issuer: string;
      clientId: string;
    };
    assert.deepEqual([config.issuer, config.clientId], [idp.issuer, 'paddock-cli']);
  });

  it('refuses to start without the client secret, and reports an unreachable IdP', async () => {
    const base = await exampleState();
    await assert.rejects(
      startHarness({
        storeUrl: `sqlite:${join(dir, 'other.db')}`,
        state: withIdentity(base, {
          provider: 'oidc',
          issuer: idp.issuer,
          clientId: 'x',
          clientSecretEnv: 'PADDOCK_OIDC_SECRET',
          demoUsers: [],
        }),
        env: {},
      }),
      (error: Error & { code?: string }) => error.code === 'PDK_AUTH_CONFIG',
    );
    const gone = await startHarness({
      storeUrl: `sqlite:${join(dir, 'gone.db')}`,
      state: withIdentity(base, {
        provider: 'oidc',
        issuer: `http://127.0.0.1:${await freePort()}`,
        clientId: 'x',
        demoUsers: [],
      }),
    });
    try {
      const response = await fetch(`${gone.origin}/auth/login`, { redirect: 'manual' });
      assert.equal(response.status, 503);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'PDK_AUTH_IDP_UNAVAILABLE',
      );
    } finally {
      await gone.close();
    }
  });
});
