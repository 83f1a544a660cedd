import type { ConfigProblem, LoadedDocument } from '../repository.ts';
import type { Blueprint, BlueprintSpec } from '../schema/index.ts';
import { commandsOf, dataScopeOf, loggingOf, mcpOf, sandboxOf, servicesOf } from './effective-scope.ts';
import { checkDataScopeNarrow } from './narrow-data-scope.ts';
import { checkLoggingNarrow, checkReviewGatesNarrow } from './narrow-oversight.ts';
import { checkSandboxNarrow } from './narrow-sandbox.ts';
import { checkServicesNarrow } from './narrow-services.ts';
import { checkCommandsNarrow, checkMcpNarrow } from './narrow-tools.ts';
import { checkWritesNarrow } from './narrow-writes.ts';
import type { ResolvedBlueprint } from './resolved-blueprint.ts';
import { createWideningReport } from './widening-report.ts';

/**
 * Every way `child` widens its resolved parent, as problems located in the child's file.
 * Only the fields the child sets are compared (an inherited field is the parent's own
 * value), each as its effective value: named services filled in, omitted fields read
 * as what they mean (no commands, no egress, /workspace read-only, default logging,
 * no sandbox waiver).
 * See docs/blueprints.md, "Inheritance", for the rule of each field.
 */
export function checkNarrowing(
  child: LoadedDocument<Blueprint>,
  effective: BlueprintSpec,
  parent: ResolvedBlueprint,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = createWideningReport(child, parent.name, problems);
  const own = child.value.spec;
  const granted = parent.blueprint.spec;
  if (own.tools?.commands !== undefined)
    checkCommandsNarrow(commandsOf(effective), commandsOf(granted), report);
  if (own.tools?.mcp !== undefined) checkMcpNarrow(mcpOf(effective), mcpOf(granted), report);
  if (own.services !== undefined) {
    // Writes take part: a host moving to another service must keep the reviews it had.
    checkServicesNarrow(
      { services: servicesOf(effective), writes: effective.writes ?? [] },
      { services: servicesOf(granted), writes: granted.writes ?? [] },
      report,
    );
  }
  if (own.dataScope !== undefined) checkDataScopeNarrow(dataScopeOf(effective), dataScopeOf(granted), report);
  if (own.writes !== undefined) {
    checkWritesNarrow(
      { writes: effective.writes ?? [], services: servicesOf(effective) },
      { writes: granted.writes ?? [], services: servicesOf(granted) },
      report,
    );
  }
  if (own.reviewGates !== undefined)
    checkReviewGatesNarrow(effective.reviewGates, granted.reviewGates, report);
  if (own.logging !== undefined) checkLoggingNarrow(loggingOf(effective), loggingOf(granted), report);
  if (own.sandbox !== undefined) checkSandboxNarrow(sandboxOf(effective), sandboxOf(granted), report);
  return problems;
}
