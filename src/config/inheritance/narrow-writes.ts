import type { BlueprintService, BlueprintWrite } from '../schema/index.ts';
import { quoteAll, serviceAllows, servicesByName } from './effective-scope.ts';
import { pathGlobsMayOverlap } from './glob-containment.ts';
import { describeRequest, mayReach, writeCovers } from './review-coverage.ts';
import type { WideningReport } from './widening-report.ts';

// spec.writes: state-changing actions and whether a human must approve them.
// Two ways to widen: declare a write the parent could not make, or let a
// request the parent gated behind review go through without it.

export interface WritesScope {
  readonly writes: readonly BlueprintWrite[];
  /** Effective services of the same blueprint. */
  readonly services: readonly BlueprintService[];
}

/**
 * - Each child write must be covered, for every method and path, by a parent
 *   write or by the parent's service of that name (its access and rules).
 * - Each request a parent write with `review: required` covers must still be
 *   covered by a child write with `review: required`, unless the child's services
 *   can no longer make it at all. A child `review: none` write that overlaps such
 *   a request is reported as the downgrade; otherwise the parent write is dropped.
 */
export function checkWritesNarrow(child: WritesScope, parent: WritesScope, report: WideningReport): void {
  const parentServices = servicesByName(parent.services);
  child.writes.forEach((write, index) => {
    const granted = parentServices.get(write.service);
    const extra: string[] = [];
    for (const method of write.methods) {
      for (const path of write.paths) {
        const covered =
          parent.writes.some((pw) => writeCovers(pw, write.service, method, path)) ||
          (granted !== undefined && serviceAllows(granted, method, path));
        if (!covered) extra.push(describeRequest(write.service, method, path));
      }
    }
    if (extra.length > 0) {
      report.widens(
        ['spec', 'writes', index],
        `spec.writes[${index}]`,
        `adds ${quoteAll(extra)} (not allowed by the parent's services or writes)`,
      );
    }
  });

  const downgraded = new Map<number, string[]>();
  const dropped: string[] = [];
  for (const gated of parent.writes) {
    if (gated.review !== 'required') continue;
    for (const method of gated.methods) {
      for (const path of gated.paths) {
        const stillGated = child.writes.some(
          (cw) => cw.review === 'required' && writeCovers(cw, gated.service, method, path),
        );
        if (stillGated || !mayReach(child.services, gated.service, method, path)) continue;
        const overlapping = child.writes
          .map((cw, index) => ({ cw, index }))
          .filter(
            ({ cw }) =>
              cw.review === 'none' &&
              cw.service === gated.service &&
              (cw.methods as readonly string[]).includes(method) &&
              cw.paths.some((p) => pathGlobsMayOverlap(p, path)),
          );
        const text = describeRequest(gated.service, method, path);
        if (overlapping.length === 0) dropped.push(text);
        for (const { index } of overlapping) downgraded.set(index, [...(downgraded.get(index) ?? []), text]);
      }
    }
  }
  for (const [index, texts] of [...downgraded].sort(([a], [b]) => a - b)) {
    report.widens(
      ['spec', 'writes', index, 'review'],
      `spec.writes[${index}].review`,
      `changes review of ${quoteAll(texts)} from required to none`,
    );
  }
  if (dropped.length > 0) {
    report.widens(['spec', 'writes'], 'spec.writes', `drops required review of ${quoteAll(dropped)}`);
  }
}
