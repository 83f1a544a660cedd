import { buildEvent } from './base.ts';
import { AUTHENTICATION } from './classes.ts';
import { endpointObject, userObject } from './objects.ts';
import type { AuditContext, AuditEndpoint, AuditUser, OcsfEvent } from './types.ts';

// Authentication (3002): a user's SSO session with the control plane, from login to its end.

export type SessionEventName =
  | 'session.login'
  | 'session.login_failed'
  | 'session.logout'
  | 'session.expired'
  | 'session.revoked'
  | 'session.refreshed';

export interface SessionEventInput extends AuditContext {
  readonly event: SessionEventName;
  /** The user who authenticated (or tried to). */
  readonly user: AuditUser;
  /** Where the user connected from (browser, CLI, IDE). */
  readonly source?: AuditEndpoint;
  /** The identity provider's issuer URL (`iss`). */
  readonly issuer?: string;
  /** Whether the identity provider reported multi-factor authentication (`amr`). */
  readonly mfa?: boolean;
  /** When the session expires, milliseconds since the epoch. */
  readonly expiresAt?: number;
  /** Machine-readable reason for a failure or a revocation, e.g. `invalid_state`, `admin_revoked`. */
  readonly reasonCode?: string;
  readonly reason?: string;
}

const ACTIVITY: Readonly<Record<SessionEventName, 1 | 2 | 99>> = {
  'session.login': 1,
  'session.login_failed': 1,
  'session.logout': 2,
  'session.expired': 2,
  'session.revoked': 2,
  // OCSF has no refresh activity: Other, with the event code naming it.
  'session.refreshed': 99,
};

/**
 * An Authentication event for an SSO session. Login and logout succeed; `session.login_failed`
 * is status Failure (severity Low); `session.revoked` also records the enforcement as action
 * Denied / disposition "Access Revoked".
 * @example sessionEvent({ event: 'session.login', user: { uid: 'sub-1', name: 'alice' }, sessionId: 's-1' })
 */
export function sessionEvent(input: SessionEventInput): OcsfEvent {
  const failed = input.event === 'session.login_failed';
  const revoked = input.event === 'session.revoked';
  const ended = input.event === 'session.expired' ? 'expired' : revoked ? 'revoked' : undefined;
  return buildEvent(AUTHENTICATION, input.event, ACTIVITY[input.event], input, {
    // IAM events name the authenticating user twice: as the actor and as the subject.
    actor: { user: userObject(input.user) },
    user: userObject(input.user),
    session: input.sessionId
      ? {
          uid: input.sessionId,
          issuer: input.issuer,
          expiration_time: input.expiresAt,
          expiration_reason: ended,
          is_mfa: input.mfa,
        }
      : undefined,
    src_endpoint: input.source && endpointObject(input.source),
    service: { name: 'Paddock control plane' },
    auth_protocol_id: 4,
    auth_protocol: 'OpenID',
    is_mfa: input.mfa,
    is_remote: true,
    severity_id: failed || revoked ? 2 : 1,
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_code: input.reasonCode,
    status_detail: input.reason,
    action_id: revoked ? 2 : undefined,
    action: revoked ? 'Denied' : undefined,
    disposition_id: revoked ? 24 : undefined,
    disposition: revoked ? 'Access Revoked' : undefined,
  });
}
