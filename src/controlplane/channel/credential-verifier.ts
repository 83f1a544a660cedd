import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { CHANNEL_AUDIENCE, CREDENTIAL_LIFETIME_S } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { IdentityRegistry } from './identity-registry.ts';

// Checks a supervisor's channel credential: signed by a key the registry holds as active, for
// the workspace that key was issued to, not expired, not older or longer-lived than the
// credential lifetime, and never seen before (each jti is remembered until it expires).

const CLOCK_TOLERANCE_S = 5;

export interface VerifiedCredential {
  readonly workspaceId: string;
  readonly kid: string;
}

function refuse(reason: string): PaddockError {
  return new PaddockError('PDK_CHANNEL_UNAUTHENTICATED', `channel credential refused: ${reason}`);
}

export class CredentialVerifier {
  readonly #registry: IdentityRegistry;
  readonly #now: () => number;
  /** jti → expiry (seconds): a credential opens one connection. */
  readonly #seen = new Map<string, number>();

  constructor(registry: IdentityRegistry, now: () => number = Date.now) {
    this.#registry = registry;
    this.#now = now;
  }

  /** The workspace and key the credential proves; PDK_CHANNEL_UNAUTHENTICATED otherwise. */
  async verify(token: string): Promise<VerifiedCredential> {
    let kid: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'EdDSA') throw refuse(`algorithm ${String(header.alg)} is not EdDSA`);
      kid = header.kid;
    } catch (error) {
      if (error instanceof PaddockError) throw error;
      throw refuse('not a JWT');
    }
    if (typeof kid !== 'string') throw refuse('no key id');
    const record = await this.#registry.lookup(kid);
    if (!record) throw refuse('unknown key');
    if (record.status !== 'active') throw refuse(`key of ${record.workspaceId} was ${record.status}`);
    const nowS = Math.floor(this.#now() / 1000);
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, createPublicKey(record.publicKeyPem), {
        algorithms: ['EdDSA'],
        audience: CHANNEL_AUDIENCE,
        issuer: record.workspaceId,
        subject: record.workspaceId,
        requiredClaims: ['exp', 'iat', 'jti'],
        maxTokenAge: CREDENTIAL_LIFETIME_S + CLOCK_TOLERANCE_S,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(nowS * 1000),
      }));
    } catch (error) {
      throw refuse((error as Error).message);
    }
    const { exp, iat, jti } = payload as { exp: number; iat: number; jti: string };
    if (exp - iat > CREDENTIAL_LIFETIME_S)
      throw refuse(`lifetime ${exp - iat}s exceeds ${CREDENTIAL_LIFETIME_S}s`);
    this.#forgetExpired(nowS);
    if (this.#seen.has(jti)) throw refuse('replayed');
    this.#seen.set(jti, exp + CLOCK_TOLERANCE_S);
    return { workspaceId: record.workspaceId, kid };
  }

  #forgetExpired(nowS: number): void {
    for (const [jti, expiry] of this.#seen) if (expiry < nowS) this.#seen.delete(jti);
  }
}
