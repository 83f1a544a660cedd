import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { PaddockError } from '../../core/errors.ts';
import type { IdentitySettings } from './identity-settings.ts';

// The control plane as an OIDC relying party (openid-client), against any IdP found by
// discovery: the browser sign-in (authorization code + PKCE + state + nonce), the periodic
// refresh that re-checks a user with the IdP, and the check of the tokens `paddock login`
// obtained with the device flow. Claims become a user here, in one place.

/** Who the IdP says signed in. */
export interface IdpUser {
  /** The user's id in Paddock: their email, lowercased. */
  readonly userId: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  /** The IdP's subject (`sub`). */
  readonly subject: string;
  /** Whether the IdP reported multi-factor authentication (`amr` has `mfa`). */
  readonly mfa: boolean;
}

/** What a sign-in or a refresh yields. */
export interface IdpSignIn {
  readonly user: IdpUser;
  /** The IdP refresh token to re-check the user with; rotated on each refresh by some IdPs. */
  readonly refreshToken: string;
}

/** What the browser's sign-in must bring back: kept server-side, keyed by state. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** Which registered client a refresh token belongs to. */
export type ClientKind = 'web' | 'cli';

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Turns ID token claims into a Paddock user; PDK_AUTH_LOGIN_FAILED when there is no usable email. */
export function userFromClaims(claims: JWTPayload, groupsClaim: string): IdpUser {
  const email = typeof claims['email'] === 'string' ? claims['email'] : undefined;
  const preferred =
    typeof claims['preferred_username'] === 'string' ? claims['preferred_username'] : undefined;
  // Entra ID often omits email; its preferred_username is then the UPN, an email-shaped name.
  const id = (email ?? (preferred?.includes('@') ? preferred : undefined))?.trim().toLowerCase();
  if (!id || !claims.sub)
    throw new PaddockError(
      'PDK_AUTH_LOGIN_FAILED',
      'the ID token has no email (or email-shaped preferred_username): request the email scope',
    );
  const raw = claims[groupsClaim];
  const groups = Array.isArray(raw)
    ? raw.filter((group): group is string => typeof group === 'string')
    : typeof raw === 'string'
      ? [raw]
      : [];
  const amr = Array.isArray(claims['amr']) ? (claims['amr'] as unknown[]) : [];
  return {
    userId: id,
    displayName: typeof claims['name'] === 'string' && claims['name'] ? claims['name'] : id,
    groups,
    subject: claims.sub,
    mfa: amr.includes('mfa') || amr.includes('otp') || amr.includes('hwk'),
  };
}

/**
 * The relying party. Discovery happens on first use (the embedded IdP may be served by the same
 * server, reachable only once it listens) and is retried on the next call after a failure.
 * @example
 * const client = new IdentityClient(settings);
 * const { url, pending } = await client.beginLogin('https://paddock.example.com/auth/callback');
 */
export class IdentityClient {
  readonly settings: IdentitySettings;
  #web: Promise<oidc.Configuration> | undefined;
  #cli: Promise<oidc.Configuration> | undefined;
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(settings: IdentitySettings) {
    this.settings = settings;
  }

  #discover(kind: ClientKind): Promise<oidc.Configuration> {
    const cached = kind === 'web' ? this.#web : this.#cli;
    if (cached) return cached;
    const issuer = new URL(this.settings.issuer);
    const secret = kind === 'web' ? this.settings.webClientSecret : undefined;
    const clientId = kind === 'web' ? this.settings.webClientId : this.settings.cliClientId;
    const found = oidc
      .discovery(
        issuer,
        clientId,
        secret,
        secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
        // Plain HTTP only for an IdP on this machine (the embedded one, tests); never remote.
        isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((error: Error) => {
        if (kind === 'web') this.#web = undefined;
        else this.#cli = undefined;
        throw new PaddockError(
          'PDK_AUTH_IDP_UNAVAILABLE',
          `identity provider ${this.settings.issuer} did not answer discovery: ${error.message}`,
          { cause: error },
        );
      });
    if (kind === 'web') this.#web = found;
    else this.#cli = found;
    return found;
  }

  /** The IdP's authorization URL for a browser sign-in, and what the callback must match. */
  async beginLogin(redirectUri: string): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.#discover('web');
    const pending: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      // The development IdP shows its demo-user picker every time, so people can switch users.
      ...(this.settings.provider === 'embedded' ? { prompt: 'login' } : {}),
    });
    return { url, pending };
  }

  /** Exchanges the callback's code (checking state, nonce and PKCE); PDK_AUTH_LOGIN_FAILED on any mismatch. */
  async finishLogin(callbackUrl: URL, pending: PendingLogin): Promise<IdpSignIn> {
    const config = await this.#discover('web');
    const tokens = await oidc
      .authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      })
      .catch((error: Error) => {
        throw loginFailed(error);
      });
    return this.#signIn(tokens, undefined);
  }

  /** Refreshes with the IdP: fails (PDK_AUTH_LOGIN_FAILED) when the user was disabled or the grant revoked. */
  async refresh(kind: ClientKind, refreshToken: string, previous: IdpUser): Promise<IdpSignIn> {
    const config = await this.#discover(kind);
    const tokens = await oidc.refreshTokenGrant(config, refreshToken).catch((error: Error) => {
      throw loginFailed(error);
    });
    // Not every IdP rotates refresh tokens: keep using the one we have when none came back.
    return this.#signIn(tokens, previous, refreshToken);
  }

  /**
   * Checks the tokens `paddock login` got from the device flow: the ID token's signature (the IdP's
   * JWKS), issuer and audience (the CLI client), then proves the refresh token is live and the
   * user still active by refreshing it. Resolves to the user and the rotated refresh token.
   */
  async verifyCliTokens(idToken: string, refreshToken: string): Promise<IdpSignIn> {
    const config = await this.#discover('cli');
    const metadata = config.serverMetadata();
    if (!metadata.jwks_uri)
      throw new PaddockError('PDK_AUTH_CONFIG', 'the identity provider publishes no jwks_uri');
    this.#jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri));
    const { payload } = await jwtVerify(idToken, this.#jwks, {
      issuer: metadata.issuer,
      audience: this.settings.cliClientId,
    }).catch((error: Error) => {
      throw loginFailed(error);
    });
    const claimed = userFromClaims(payload, this.settings.groupsClaim);
    const refreshed = await this.refresh('cli', refreshToken, claimed);
    return refreshed;
  }

  #signIn(
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    previous: IdpUser | undefined,
    currentRefreshToken?: string,
  ): IdpSignIn {
    const refreshToken = tokens.refresh_token ?? currentRefreshToken;
    if (!refreshToken)
      throw new PaddockError(
        'PDK_AUTH_LOGIN_FAILED',
        'the identity provider issued no refresh token, so the session could not be re-checked: add offline_access to spec.identity.extraScopes',
      );
    const claims = tokens.claims();
    if (!claims) {
      if (!previous)
        throw new PaddockError('PDK_AUTH_LOGIN_FAILED', 'the identity provider returned no ID token');
      return { user: previous, refreshToken };
    }
    const user = userFromClaims(claims, this.settings.groupsClaim);
    if (previous && previous.subject !== user.subject)
      throw new PaddockError('PDK_AUTH_LOGIN_FAILED', 'the refreshed ID token names another subject');
    return { user, refreshToken };
  }
}

function loginFailed(error: Error): PaddockError {
  if (error instanceof PaddockError) return error;
  const code = (error as { error?: string }).error;
  return new PaddockError('PDK_AUTH_LOGIN_FAILED', `identity provider refused: ${code ?? error.message}`, {
    cause: error,
  });
}
