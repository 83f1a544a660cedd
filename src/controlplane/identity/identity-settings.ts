import { parseDurationMs } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import type { Platform } from '../../config/index.ts';
import { EMBEDDED_GROUPS_CLAIM } from './embedded-idp.ts';

// The Platform's `spec.identity`, resolved once at startup into what the control plane runs
// with: which IdP, which clients, which scopes, and the session limits in milliseconds.

type IdentitySpec = Platform['spec']['identity'];

/** The client ids the embedded IdP registers for the console and the CLI. */
export const EMBEDDED_WEB_CLIENT_ID = 'paddock-console';
export const EMBEDDED_CLI_CLIENT_ID = 'paddock-cli';

export interface IdentitySettings {
  readonly provider: 'oidc' | 'embedded';
  /** The IdP's issuer; for the embedded IdP, `<publicOrigin>/idp`. */
  readonly issuer: string;
  readonly webClientId: string;
  /** Undefined: the control plane is a public client (PKCE only). */
  readonly webClientSecret: string | undefined;
  readonly cliClientId: string;
  /** Scopes requested at sign-in (always openid, email, profile). */
  readonly scopes: readonly string[];
  readonly groupsClaim: string;
  readonly adminGroups: readonly string[];
  readonly sessionMaxAgeMs: number;
  readonly sessionIdleMs: number;
}

const BASE_SCOPES = ['openid', 'email', 'profile'];

function durationMs(text: string, field: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0)
    throw new PaddockError(
      'PDK_AUTH_CONFIG',
      `spec.identity.${field} "${text}" is not a duration such as 30m`,
    );
  return ms;
}

/**
 * Resolves the identity settings. `embeddedIssuer` is where the embedded IdP is served (used only
 * when the provider is embedded); `webClientSecret` for the embedded IdP is generated per start.
 * PDK_AUTH_CONFIG when a required field or the client secret's environment variable is missing.
 */
export function resolveIdentitySettings(
  identity: IdentitySpec,
  env: NodeJS.ProcessEnv,
  embedded: { readonly issuer: string; readonly webClientSecret: string },
): IdentitySettings {
  const common = {
    groupsClaim: identity.groupsClaim,
    adminGroups: identity.adminGroups,
    sessionMaxAgeMs: durationMs(identity.sessionMaxAge, 'sessionMaxAge'),
    sessionIdleMs: durationMs(identity.sessionIdleTimeout, 'sessionIdleTimeout'),
  };
  if (identity.provider === 'embedded') {
    return {
      ...common,
      provider: 'embedded',
      issuer: embedded.issuer,
      webClientId: EMBEDDED_WEB_CLIENT_ID,
      webClientSecret: embedded.webClientSecret,
      cliClientId: EMBEDDED_CLI_CLIENT_ID,
      scopes: unique([...BASE_SCOPES, 'groups', ...identity.extraScopes]),
      groupsClaim: identity.groupsClaim || EMBEDDED_GROUPS_CLAIM,
    };
  }
  if (!identity.issuer || !identity.clientId)
    throw new PaddockError(
      'PDK_AUTH_CONFIG',
      'spec.identity.issuer and clientId are required for provider oidc',
    );
  let secret: string | undefined;
  if (identity.clientSecretEnv) {
    secret = env[identity.clientSecretEnv];
    if (!secret)
      throw new PaddockError(
        'PDK_AUTH_CONFIG',
        `spec.identity.clientSecretEnv names ${identity.clientSecretEnv}, which is not set: export the client secret in it`,
      );
  }
  return {
    ...common,
    provider: 'oidc',
    issuer: identity.issuer,
    webClientId: identity.clientId,
    webClientSecret: secret,
    cliClientId: identity.cliClientId ?? identity.clientId,
    scopes: unique([...BASE_SCOPES, ...identity.extraScopes]),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
