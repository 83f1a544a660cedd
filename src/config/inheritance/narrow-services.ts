import { formatFieldPath } from '../repository.ts';
import type { BlueprintService, BlueprintWrite } from '../schema/index.ts';
import { DEFAULT_SERVICE_PORTS } from './expand-services.ts';
import { quoteAll, servicesByName } from './effective-scope.ts';
import { hostPatternContains } from './network-containment.ts';
import { lostReviews } from './review-coverage.ts';
import { grantWidenings, reachWidenings } from './service-widenings.ts';
import type { WideningReport } from './widening-report.ts';

// spec.services is the egress allowlist. Both sides are effective (name-only
// entries already filled in from services/*.yaml).

/** A blueprint's effective services, and its writes (which gate requests per service). */
export interface EgressScope {
  readonly services: readonly BlueprintService[];
  readonly writes: readonly BlueprintWrite[];
}

/**
 * Reports every way `child` services reach beyond `parent` services:
 * - by name: each child service must be one of the parent's and grant no host,
 *   port, method, path, secret or private range the parent's service of that name does not;
 * - by route: egress hands a connection to one service (exact host patterns before
 *   wildcards, then declaration order), so a child that drops a strict service for
 *   "api.example.com" would send it to a laxer "*.example.com" one. Every host and port
 *   is checked against the service the parent would have chosen for it, including
 *   the reviews the parent's writes required on that service.
 */
export function checkServicesNarrow(child: EgressScope, parent: EgressScope, report: WideningReport): void {
  const parentByName = servicesByName(parent.services);
  child.services.forEach((service, index) => {
    const base = ['spec', 'services', index];
    const label = `spec.services[${service.name}]`;
    const granted = parentByName.get(service.name);
    if (!granted) {
      report.widens(base, label, `adds service "${service.name}"`);
      return;
    }
    for (const { field, detail, at } of [
      ...reachWidenings(service, granted),
      ...grantWidenings(service, granted),
    ]) {
      report.widens(
        [...base, ...field],
        `${label}.${formatFieldPath(field)}`,
        detail,
        at && [...base, ...at],
      );
    }
  });
  checkRouting(child, parent, report);
}

/** The service egress picks for `host` on `port` (policy/egress decideConnect): exact before wildcard, then order. */
function route(
  services: readonly BlueprintService[],
  host: string,
  port: number,
): BlueprintService | undefined {
  const hasPort = (service: BlueprintService) => (service.ports ?? DEFAULT_SERVICE_PORTS).includes(port);
  return (
    services.find((service) => (service.hosts ?? []).includes(host) && hasPort(service)) ??
    services.find(
      (service) =>
        (service.hosts ?? []).some(
          (pattern) => pattern.startsWith('*.') && hostPatternContains(pattern, host),
        ) && hasPort(service),
    )
  );
}

/**
 * One host per way a name can be routed: every exact host either side lists, and
 * for each wildcard a name under it that no exact pattern names (shown as the wildcard).
 */
function probeHosts(services: readonly BlueprintService[]): { host: string; shown: string }[] {
  const patterns = new Set(services.flatMap((service) => service.hosts ?? []));
  const probes: { host: string; shown: string }[] = [];
  for (const pattern of patterns) {
    if (!pattern.startsWith('*.')) {
      probes.push({ host: pattern, shown: pattern });
      continue;
    }
    let n = 0;
    while (patterns.has(`probe${n}${pattern.slice(1)}`)) n++;
    probes.push({ host: `probe${n}${pattern.slice(1)}`, shown: pattern });
  }
  return probes;
}

function checkRouting(child: EgressScope, parent: EgressScope, report: WideningReport) {
  const everything = [...child.services, ...parent.services];
  const ports = [...new Set(everything.flatMap((service) => service.ports ?? DEFAULT_SERVICE_PORTS))];
  // Grouped per (child service, parent service), so one reroute is one problem.
  const rerouted = new Map<
    string,
    { service: BlueprintService; instead: BlueprintService; targets: string[] }
  >();
  for (const { host, shown } of probeHosts(everything)) {
    for (const port of ports) {
      const chosen = route(child.services, host, port);
      const before = route(parent.services, host, port);
      // Same name: the by-name check compared them. No parent route: the by-name
      // check already reported the host or port the child added.
      if (!chosen || !before || chosen.name === before.name) continue;
      const key = `${child.services.indexOf(chosen)}\0${before.name}`;
      const entry = rerouted.get(key) ?? { service: chosen, instead: before, targets: [] };
      entry.targets.push(`${shown}:${port}`);
      rerouted.set(key, entry);
    }
  }
  for (const { service, instead, targets } of rerouted.values()) {
    const reasons = grantWidenings(service, instead).map(
      ({ field, detail }) => `${formatFieldPath(field)} ${detail}`,
    );
    const lost = lostReviews(parent.writes, instead.name, child.writes, child.services, service.name);
    if (lost.length > 0) reasons.push(`its writes drop the required review of ${quoteAll(lost)}`);
    if (reasons.length === 0) continue;
    report.widens(
      ['spec', 'services', child.services.indexOf(service), 'hosts'],
      `spec.services[${service.name}].hosts`,
      `takes over ${quoteAll(targets)} from service "${instead.name}", and compared with it ${reasons.join('; ')}`,
    );
  }
}
