import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkloadIdentityCredential } from '@azure/identity';
import { generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AzureProvider, azureCredential } from '../../../src/providers/azure/index.ts';
import { ArmSchemas } from './arm-schemas.ts';
import { type ArmStandIn, startArmStandIn } from './arm-standin.ts';
import { FIXTURE_DIR, fixtureSettings } from './render-fixture.ts';

// A REAL @azure/identity WorkloadIdentityCredential (MSAL underneath) exchanging a federated
// token file for an access token, against a LOCAL STAND-IN for the Entra ID token endpoint
// (nothing real can run Entra here), and the ARM stand-in accepting only the token it issued.
// The stand-in implements the documented wire format of the client credentials grant with a
// federated assertion: OpenID discovery at {authority}/{tenant}/v2.0/.well-known/openid-configuration
// (MSAL still reads it with instance discovery disabled), then a form POST to the token endpoint
// with client_id, scope, grant_type=client_credentials,
// client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and
// client_assertion=<the federated token>, which it verifies as Entra does a federated
// credential: the issuer's signature, issuer, subject, and audience api://AzureADTokenExchange.

const TENANT = '99999999-8888-7777-6666-555555555555';
const CLIENT_ID = '0f0f0f0f-1111-2222-3333-444444444444';
const CI_ISSUER = 'https://ci.example.com/oidc';
const CI_SUBJECT = 'repo:example/platform:environment:production';
const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ARM_SCOPE = 'https://management.azure.com/.default';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

interface TokenRequest {
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
}

interface EntraStandIn {
  readonly url: string;
  readonly ca: string;
  readonly discoveries: string[];
  readonly tokenRequests: TokenRequest[];
  close(): Promise<void>;
}

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'entra-stand-in-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The stand-in Entra token endpoint: issues `accessToken` for an assertion the CI issuer signed. */
async function startEntraStandIn(ciPublicKey: Key, accessToken: string): Promise<EntraStandIn> {
  const { key, cert } = selfSignedCert();
  const discoveries: string[] = [];
  const tokenRequests: TokenRequest[] = [];
  let base = '';
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const oauthError = (res: ServerResponse, error: string, description: string) =>
    json(res, 400, { error, error_description: description });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'GET' && url.pathname === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
      discoveries.push(url.pathname);
      return json(res, 200, {
        issuer: `${base}/${TENANT}/v2.0`,
        authorization_endpoint: `${base}/${TENANT}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/${TENANT}/oauth2/v2.0/token`,
        jwks_uri: `${base}/${TENANT}/discovery/v2.0/keys`,
        end_session_endpoint: `${base}/${TENANT}/oauth2/v2.0/logout`,
      });
    }
    if (req.method !== 'POST' || url.pathname !== `/${TENANT}/oauth2/v2.0/token`)
      return json(res, 404, { error: 'not_found' });
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    tokenRequests.push({ contentType: req.headers['content-type'], form });
    if (form.get('grant_type') !== 'client_credentials')
      return oauthError(res, 'unsupported_grant_type', 'AADSTS70003: grant_type must be client_credentials');
    if (form.get('client_id') !== CLIENT_ID)
      return oauthError(res, 'unauthorized_client', 'AADSTS700016: application not found in the directory');
    if (form.get('client_assertion_type') !== JWT_BEARER)
      return oauthError(res, 'invalid_request', 'AADSTS7000218: client_assertion or client_secret required');
    const scopes = (form.get('scope') ?? '').split(' ');
    if (!scopes.includes(ARM_SCOPE)) return oauthError(res, 'invalid_scope', 'AADSTS70011: invalid scope');
    try {
      // A federated identity credential matches on issuer, subject and audience, all exactly.
      await jwtVerify(form.get('client_assertion') ?? '', ciPublicKey, {
        issuer: CI_ISSUER,
        subject: CI_SUBJECT,
        audience: EXCHANGE_AUDIENCE,
      });
    } catch (error) {
      return oauthError(
        res,
        'invalid_client',
        `AADSTS70021: No matching federated identity record found for presented assertion (${(error as Error).message})`,
      );
    }
    return json(res, 200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    });
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((error: Error) =>
      json(res, 500, { error: 'server_error', message: error.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    ca: cert,
    discoveries,
    tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let ciKey: Key;
let entra: EntraStandIn;
let arm: ArmStandIn;
let dir: string;
const accessToken = `entra-${randomBytes(24).toString('base64url')}`;

async function federatedToken(claims: { subject?: string; audience?: string; issuer?: string } = {}) {
  return new SignJWT({} as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', kid: 'ci-1' })
    .setIssuer(claims.issuer ?? CI_ISSUER)
    .setSubject(claims.subject ?? CI_SUBJECT)
    .setAudience(claims.audience ?? EXCHANGE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(ciKey);
}

function providerWith(tokenFile: string): AzureProvider {
  const settings = fixtureSettings({
    auth: {
      mode: 'workload-identity',
      clientId: CLIENT_ID,
      tenantId: TENANT,
      tokenFilePath: tokenFile,
      authorityHost: entra.url,
      // The stand-in is not a Microsoft host: instance discovery would ask login.microsoft.com.
      disableInstanceDiscovery: true,
    },
  });
  // One CA bundle for both stand-ins: the credential and the ARM client each trust it.
  return new AzureProvider({
    settings,
    dataDir: mkdtempSync(join(dir, 'data-')),
    endpoint: arm.url,
    ca: `${arm.ca}${entra.ca}`,
    pollIntervalMs: 5,
  });
}

describe('workload identity federation: real WorkloadIdentityCredential, stand-in Entra token endpoint and stand-in ARM', () => {
  before(async () => {
    const pair = await generateKeyPair('ES256');
    ciKey = pair.privateKey;
    entra = await startEntraStandIn(pair.publicKey, accessToken);
    arm = await startArmStandIn(new ArmSchemas(), 2, accessToken);
    dir = mkdtempSync(join(tmpdir(), 'azure-wif-'));
  });
  after(async () => {
    await entra.close();
    await arm.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    entra.discoveries.length = 0;
    entra.tokenRequests.length = 0;
    arm.requests.length = 0;
  });

  it('stand-in Entra + stand-in ARM: the federated token file is exchanged (client_assertion form) and ARM receives the issued bearer token', async () => {
    const tokenFile = join(dir, 'federated-token');
    const assertion = await federatedToken();
    writeFileSync(tokenFile, `${assertion}\n`, { mode: 0o600 });
    const provider = providerWith(tokenFile);
    await provider.deployHub(FIXTURE_DIR);

    // MSAL read the stand-in's discovery document (instance discovery off, metadata still fetched).
    assert.deepEqual(entra.discoveries, [`/${TENANT}/v2.0/.well-known/openid-configuration`]);
    // One exchange, in the documented form.
    assert.equal(entra.tokenRequests.length, 1);
    const [request] = entra.tokenRequests;
    assert.ok(request);
    assert.match(request.contentType ?? '', /^application\/x-www-form-urlencoded/);
    assert.equal(request.form.get('grant_type'), 'client_credentials');
    assert.equal(request.form.get('client_id'), CLIENT_ID);
    assert.equal(request.form.get('client_assertion_type'), JWT_BEARER);
    assert.equal(
      request.form.get('client_assertion'),
      assertion,
      'the file content, trimmed, is the assertion',
    );
    assert.ok((request.form.get('scope') ?? '').split(' ').includes(ARM_SCOPE));
    assert.equal(request.form.get('client_secret'), null, 'no secret is ever sent');
    // The ARM stand-in accepts only the issued token: the deployment went through with it.
    assert.ok(
      arm.requests.some((entry) => entry.method === 'PUT' && /deployments\/pdk-hub$/.test(entry.path)),
    );
  });

  it('stand-in Entra: the credential built from settings is a WorkloadIdentityCredential that returns the issued token', async () => {
    const tokenFile = join(dir, 'federated-token-2');
    writeFileSync(tokenFile, await federatedToken(), { mode: 0o600 });
    const credential = azureCredential(
      {
        mode: 'workload-identity',
        clientId: CLIENT_ID,
        tenantId: TENANT,
        tokenFilePath: tokenFile,
        authorityHost: entra.url,
        disableInstanceDiscovery: true,
      },
      { ca: entra.ca },
    );
    assert.ok(credential instanceof WorkloadIdentityCredential);
    const token = await credential.getToken(ARM_SCOPE);
    assert.equal(token?.token, accessToken);
    assert.ok((token?.expiresOnTimestamp ?? 0) > Date.now() + 3_000_000);
  });

  it('stand-in Entra: a federated token for another subject is refused, and ARM never sees a token (fail closed)', async () => {
    for (const [name, claims] of [
      ['subject', { subject: 'repo:example/platform:pull_request' }],
      ['audience', { audience: 'https://management.azure.com' }],
      ['issuer', { issuer: 'https://other-ci.example.com' }],
    ] as const) {
      const tokenFile = join(dir, `federated-token-wrong-${name}`);
      writeFileSync(tokenFile, await federatedToken(claims), { mode: 0o600 });
      await assert.rejects(providerWith(tokenFile).deployHub(FIXTURE_DIR), (error: Error) => {
        assert.match(error.message, /AADSTS70021/, `wrong ${name}`);
        return true;
      });
    }
    assert.equal(entra.tokenRequests.length, 3);
    assert.deepEqual(arm.requests, [], 'no request reached ARM');
  });

  it('stand-in Entra: an assertion signed by another key (a forged CI token) is refused', async () => {
    const forger = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'ci-1' })
      .setIssuer(CI_ISSUER)
      .setSubject(CI_SUBJECT)
      .setAudience(EXCHANGE_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(forger.privateKey);
    const tokenFile = join(dir, 'federated-token-forged');
    writeFileSync(tokenFile, forged, { mode: 0o600 });
    await assert.rejects(providerWith(tokenFile).deployHub(FIXTURE_DIR), /AADSTS70021/);
    assert.deepEqual(arm.requests, []);
  });
});
