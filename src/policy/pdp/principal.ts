import { ENTITY } from '../cedar/schema.ts';
import type { CedarPrincipal } from './engines.ts';
import { EntityValue } from './values.ts';
import type { PolicyPrincipal } from './types.ts';

// The principal's entity hierarchy, built once per distinct principal: AgentSession in
// [User, Blueprint], User in [Group…]. Both engines get the same hierarchy in their own form.

/** The principal's forms for both engines, and its share of the memo key. */
export interface PreparedPrincipal {
  readonly entity: EntityValue;
  /** Transitive ancestors by entity key. */
  readonly ancestors: ReadonlyMap<string, ReadonlySet<string>>;
  readonly cedar: CedarPrincipal;
  readonly key: string;
}

const MAX_NAME = 512;
const MAX_GROUPS = 256;

function isName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_NAME &&
    value.isWellFormed() &&
    !/[\x00-\x1f\x7f]/u.test(value)
  );
}

/** Why a principal is malformed, or undefined. */
export function principalProblem(principal: PolicyPrincipal): string | undefined {
  if (principal === null || typeof principal !== 'object') return 'principal must be an object';
  if (!isName(principal.session) || !isName(principal.user))
    return 'principal.session and principal.user must be non-empty strings without control characters';
  const groups = principal.groups ?? [];
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS || !groups.every(isName))
    return `principal.groups must be at most ${MAX_GROUPS} non-empty strings`;
  return undefined;
}

/** Builds the principal of a session running under `blueprint`. Call principalProblem first. */
export function preparePrincipal(principal: PolicyPrincipal, blueprint: string): PreparedPrincipal {
  const groups = [...new Set(principal.groups ?? [])].sort();
  const session = new EntityValue(ENTITY.session, principal.session);
  const user = new EntityValue(ENTITY.user, principal.user);
  const blueprintEntity = new EntityValue(ENTITY.blueprint, blueprint);
  const groupEntities = groups.map((group) => new EntityValue(ENTITY.group, group));
  const groupKeys = new Set(groupEntities.map((group) => group.key));
  const ancestors = new Map<string, ReadonlySet<string>>([
    [session.key, new Set([user.key, blueprintEntity.key, ...groupKeys])],
    [user.key, groupKeys],
  ]);
  const uid = (entity: EntityValue) => ({ type: entity.type, id: entity.id });
  return {
    entity: session,
    ancestors,
    cedar: {
      uid: uid(session),
      entities: [
        { uid: uid(session), attrs: {}, parents: [uid(user), uid(blueprintEntity)] },
        { uid: uid(user), attrs: {}, parents: groupEntities.map(uid) },
        { uid: uid(blueprintEntity), attrs: {}, parents: [] },
        ...groupEntities.map((group) => ({ uid: uid(group), attrs: {}, parents: [] })),
      ],
    },
    key: JSON.stringify([principal.session, principal.user, groups]),
  };
}
