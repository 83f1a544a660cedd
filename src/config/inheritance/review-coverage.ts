import type { BlueprintService, BlueprintWrite } from '../schema/index.ts';
import { methodsAllowedBy } from './effective-scope.ts';
import { pathGlobContains, pathGlobsMayOverlap } from './glob-containment.ts';

// Which requests a `review: required` write gates, and whether they still are:
// shared by the writes check (same service) and the routing check (a host that
// moves to another service must not leave its review behind).

/** One (service, method, path glob) a write covers, as messages print it: `github POST /repos/**`. */
export function describeRequest(service: string, method: string, path: string): string {
  return `${service} ${method} ${path}`;
}

/** Whether `write` covers `method` on every path `path` (a glob) matches, for `service`. */
export function writeCovers(write: BlueprintWrite, service: string, method: string, path: string): boolean {
  return (
    write.service === service &&
    (write.methods as readonly string[]).includes(method) &&
    write.paths.some((outer) => pathGlobContains(outer, path))
  );
}

/** Whether some service named `service` could let a request matching (method, path) through. True when unsure. */
export function mayReach(
  services: readonly BlueprintService[],
  service: string,
  method: string,
  path: string,
): boolean {
  return services.some(
    (s) =>
      s.name === service &&
      methodsAllowedBy(s.access).includes(method) &&
      (s.rules === undefined ||
        s.rules.some(
          (rule) =>
            (rule.methods as readonly string[]).includes(method) &&
            rule.paths.some((p) => pathGlobsMayOverlap(p, path)),
        )),
  );
}

/**
 * Requests the parent's `review: required` writes on service `from` gate that, sent
 * to the child's service `to` instead, would go through without a child
 * `review: required` write covering them (requests `to` cannot make are fine).
 */
export function lostReviews(
  parentWrites: readonly BlueprintWrite[],
  from: string,
  childWrites: readonly BlueprintWrite[],
  childServices: readonly BlueprintService[],
  to: string,
): string[] {
  const lost: string[] = [];
  for (const gated of parentWrites) {
    if (gated.review !== 'required' || gated.service !== from) continue;
    for (const method of gated.methods) {
      for (const path of gated.paths) {
        const stillGated = childWrites.some(
          (cw) => cw.review === 'required' && writeCovers(cw, to, method, path),
        );
        if (!stillGated && mayReach(childServices, to, method, path))
          lost.push(describeRequest(from, method, path));
      }
    }
  }
  return lost;
}
