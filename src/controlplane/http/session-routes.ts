import { PaddockError } from '../../core/errors.ts';
import { sameUser } from '../../policy/index.ts';
import type { Principal } from '../identity/principal.ts';
import type { SessionRecord } from '../store/store.ts';
import type { RouteDeps } from './deps.ts';
import type { Route } from './route-table.ts';

// Who am I, and my sessions: list, revoke one, revoke all of a user's. A user sees and revokes
// their own; an administrator anyone's.

function sessionJson(record: SessionRecord) {
  return {
    id: record.id,
    userId: record.userId,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    lastSeenAt: record.lastSeenAt,
  };
}

function mustBe(principal: Principal | undefined): Principal {
  if (!principal) throw new PaddockError('PDK_AUTH_REQUIRED');
  return principal;
}

export function sessionRoutes(deps: RouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/me',
      access: 'user',
      handler({ principal, session }) {
        const me = mustBe(principal);
        return {
          json: {
            user: { id: me.userId, displayName: me.displayName, groups: me.groups },
            admin: me.admin,
            reviewer: me.reviewer,
            session,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/sessions',
      access: 'user',
      async handler({ principal }) {
        const me = mustBe(principal);
        const records = await deps.sessions.list(me.admin ? undefined : me.userId);
        return { json: { sessions: records.map(sessionJson) } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/sessions/:sessionId',
      access: 'user',
      async handler({ principal, params }) {
        const me = mustBe(principal);
        const record = await deps.sessions.get(params['sessionId'] as string);
        if (!record) throw new PaddockError('PDK_HTTP_NOT_FOUND', 'no such session');
        if (!me.admin && !sameUser(record.userId, me.userId))
          throw new PaddockError(
            'PDK_AUTH_FORBIDDEN',
            "only an administrator may revoke another user's session",
          );
        const revoked = await deps.sessions.revoke(record.id, me.userId);
        return { json: { session: { ...sessionJson(revoked), revokedAt: revoked.revokedAt } } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/users/:userId/sessions',
      access: 'user',
      async handler({ principal, params }) {
        const me = mustBe(principal);
        const userId = (params['userId'] as string).trim().toLowerCase();
        if (!me.admin && !sameUser(userId, me.userId))
          throw new PaddockError(
            'PDK_AUTH_FORBIDDEN',
            "only an administrator may revoke another user's sessions",
          );
        const revoked = await deps.sessions.revokeUser(userId, me.userId);
        return { json: { userId, revoked } };
      },
    },
  ];
}
