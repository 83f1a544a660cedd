import type { SandboxSpec } from '../schema/index.ts';
import { quoteAll } from './effective-scope.ts';
import type { WideningReport } from './widening-report.ts';

// spec.sandbox: the weaker-mode waiver (docs/sandbox.md, "Weaker mode"). Each feature in
// allowMissing lets the sandbox start without a kernel layer, so a waiver is authority in the
// same sense as a host or a path: a child may drop waivers, never add one its parent lacks.
// A child that omits spec.sandbox inherits the parent's waiver (merge-blueprint.ts), which is
// therefore never wider than what the parent's owner signed off.

/** allowMissing: every feature the child waives must be waived by the parent too. */
export function checkSandboxNarrow(child: SandboxSpec, parent: SandboxSpec, report: WideningReport): void {
  const base = ['spec', 'sandbox', 'allowMissing'];
  const added = child.allowMissing.filter((feature) => !parent.allowMissing.includes(feature));
  if (added.length === 0) return;
  report.widens(
    base,
    'spec.sandbox.allowMissing',
    `adds ${quoteAll(added)} (the sandbox may start without that layer)`,
    [...base, child.allowMissing.indexOf(added[0]!)],
  );
}
