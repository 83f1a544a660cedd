import type { PolicyBundle } from '../cedar/bundle-types.ts';
import { CEDAR_SCHEMA } from '../cedar/schema.ts';

/**
 * The bundle in force when a workspace holds no valid one (DESIGN.md §5 invariant 5): no
 * policy, so every request meets Cedar's default deny, and no service, so no egress. Events
 * decided by it carry bundle `deny-all` version `0`.
 */
export function denyAllBundle(): PolicyBundle {
  return Object.freeze({
    id: 'deny-all',
    version: '0',
    blueprint: Object.freeze({ name: 'deny-all', version: '0.0.0' }),
    policies: Object.freeze([]),
    schema: CEDAR_SCHEMA,
    services: Object.freeze([]),
    pathGlobs: Object.freeze([]),
  });
}
