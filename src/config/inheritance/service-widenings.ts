import type { FieldPath } from '../repository.ts';
import type { BlueprintService } from '../schema/index.ts';
import { accessRank, quoteAll, serviceAllows } from './effective-scope.ts';
import { DEFAULT_SERVICE_PORTS } from './expand-services.ts';
import { cidrContains, hostPatternContains } from './network-containment.ts';

// How one service grants more than another: the comparison behind both the
// per-name check (a child service against the parent's of the same name) and the
// routing check (a child service against the parent service that would have
// handled the same host).

/** One way a service grants more, relative to the service (`['rules', 0]`). */
export interface ServiceWidening {
  readonly field: FieldPath;
  readonly detail: string;
  /** A more precise position (an offending element) relative to the service. */
  readonly at?: FieldPath;
}

/** Extra values of `values` that no element of `allowed` covers, with the index of the first. */
function extras<T>(values: readonly T[], allowed: readonly T[], covers: (outer: T, inner: T) => boolean) {
  const extra = values.filter((value) => !allowed.some((outer) => covers(outer, value)));
  return { extra, first: extra.length > 0 ? values.indexOf(extra[0]!) : -1 };
}

/** Hosts and ports of `service` beyond `granted`'s. */
export function reachWidenings(service: BlueprintService, granted: BlueprintService): ServiceWidening[] {
  const out: ServiceWidening[] = [];
  const hosts = extras(service.hosts ?? [], granted.hosts ?? [], hostPatternContains);
  if (hosts.extra.length > 0) {
    out.push({ field: ['hosts'], detail: `adds ${quoteAll(hosts.extra)}`, at: ['hosts', hosts.first] });
  }
  const ports = extras(
    service.ports ?? DEFAULT_SERVICE_PORTS,
    granted.ports ?? DEFAULT_SERVICE_PORTS,
    (a, b) => a === b,
  );
  if (ports.extra.length > 0) {
    out.push({ field: ['ports'], detail: `adds ${quoteAll(ports.extra)}`, at: ['ports', ports.first] });
  }
  return out;
}

/**
 * What `service` lets through on a connection beyond `granted`: methods (access;
 * absent = L4-only, the widest), method and path rules (each child rule's every
 * method and path must be allowed by the parent's access and rules), the injected
 * credential (dropping it narrows, any other secret widens) and private ranges.
 */
export function grantWidenings(service: BlueprintService, granted: BlueprintService): ServiceWidening[] {
  const out: ServiceWidening[] = [];
  if (accessRank(service.access) > accessRank(granted.access)) {
    out.push({
      field: ['access'],
      detail:
        service.access === undefined
          ? `removes access "${granted.access}" (L4-only: any method, nothing inspected)`
          : `"${service.access}" is wider than "${granted.access}"`,
    });
  }
  if (granted.rules !== undefined && service.rules === undefined) {
    out.push({ field: ['rules'], detail: `removes the parent's rules (any path)` });
  }
  (service.rules ?? []).forEach((rule, index) => {
    // Every method of the rule is checked, even one outside the child's own access
    // class: a rule should never read as granting more than the parent.
    const extra: string[] = [];
    for (const method of rule.methods) {
      for (const path of rule.paths)
        if (!serviceAllows(granted, method, path)) extra.push(`${method} ${path}`);
    }
    if (extra.length > 0) out.push({ field: ['rules', index], detail: `adds ${quoteAll(extra)}` });
  });
  if (service.credential !== undefined && service.credential !== granted.credential) {
    out.push({
      field: ['credential'],
      detail:
        granted.credential === undefined
          ? `adds credential "${service.credential}"`
          : `changes credential "${granted.credential}" to "${service.credential}"`,
    });
  }
  const cidrs = extras(service.cidrs ?? [], granted.cidrs ?? [], cidrContains);
  if (cidrs.extra.length > 0) {
    out.push({ field: ['cidrs'], detail: `adds ${quoteAll(cidrs.extra)}`, at: ['cidrs', cidrs.first] });
  }
  return out;
}
