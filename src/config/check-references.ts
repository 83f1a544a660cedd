import { suggestion } from './did-you-mean.ts';
import { methodsAllowedBy } from './inheritance/effective-scope.ts';
import { problemAt } from './problem.ts';
import { declaredReleaseChannels } from './release-channels.ts';
import type { ConfigProblem, DesiredState, FieldPath, LoadedDocument, SourceLocation } from './repository.ts';
import type { Blueprint } from './schema/index.ts';
import { defaultToolPrefix } from './schema/service.ts';

// Checks between documents that each passed their schema: every name one document
// uses must be defined by another. A dangling name would otherwise be resolved at
// runtime to "nothing", which is safe (default deny) but never what was meant.

/**
 * Assignments must name existing profiles and blueprints; a blueprint service
 * without hosts must name a shared service; `extends` must name a blueprint.
 * `namesWithProblems` (from loadRepository) lists `Kind/name` of files that have
 * problems of their own; references to those are not reported.
 */
export function checkReferences(
  state: DesiredState,
  namesWithProblems: ReadonlySet<string> = new Set(),
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // A name whose file failed its own checks is reported there, not as unknown here.
  const known = (kind: string, names: ReadonlyMap<string, unknown>, name: string) =>
    names.has(name) || namesWithProblems.has(`${kind}/${name}`);
  const assignments = state.assignments;
  if (assignments) {
    assignments.value.spec.assignments.forEach((assignment, index) => {
      const base = ['spec', 'assignments', index] as const;
      if (!known('Profile', state.profiles, assignment.profile)) {
        const path = [...base, 'profile'];
        problems.push(
          problemAt(
            assignments.locate(path),
            path,
            unknownName('profile', assignment.profile, 'profiles', state.profiles.keys()),
          ),
        );
      }
      assignment.blueprints.forEach((name, position) => {
        if (known('Blueprint', state.blueprints, name)) return;
        const path = [...base, 'blueprints', position];
        problems.push(
          problemAt(
            assignments.locate(path),
            path,
            unknownName('blueprint', name, 'blueprints', state.blueprints.keys()),
          ),
        );
      });
    });
  }

  // A profile's release channel must be one paddock.yaml declares (else its workspaces never get a release).
  const channels = declaredReleaseChannels(state);
  for (const document of state.profiles.values()) {
    const name = document.value.spec.releaseChannel;
    if (name === undefined || channels.includes(name)) continue;
    const path = ['spec', 'releaseChannel'];
    problems.push(
      problemAt(
        document.locate(path),
        path,
        `release channel "${name}" is not in paddock.yaml spec.releases.channels (${channels.join(', ')})${suggestion(name, channels)}`,
      ),
    );
  }

  for (const document of state.blueprints.values()) {
    const { value } = document;
    if (value.extends !== undefined && !known('Blueprint', state.blueprints, value.extends)) {
      problems.push(
        problemAt(
          document.locate(['extends']),
          ['extends'],
          unknownName('blueprint', value.extends, 'blueprints', state.blueprints.keys()),
        ),
      );
    }
    problems.push(...checkMcpServers(document, state, namesWithProblems));
    (value.spec.services ?? []).forEach((service, index) => {
      if (service.hosts !== undefined || known('Service', state.services, service.name)) return;
      const path = ['spec', 'services', index, 'name'];
      problems.push(
        problemAt(
          document.locate(path),
          path,
          `service "${service.name}" has no hosts and services/ defines no service of that name: add hosts, or add services/${service.name}.yaml${suggestion(service.name, state.services.keys())}`,
        ),
      );
    });
  }
  return problems;
}

/**
 * Every server in a blueprint's own spec.tools.mcp must be a shared service with spec.mcp, and
 * no two allowed tools may be exposed under the same name. Checking each blueprint's own list
 * covers every effective one: tools.mcp is inherited whole from the nearest blueprint setting it.
 */
function checkMcpServers(
  document: LoadedDocument<Blueprint>,
  state: DesiredState,
  namesWithProblems: ReadonlySet<string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const exposed = new Map<string, string>();
  (document.value.spec.tools?.mcp ?? []).forEach((entry, index) => {
    const path = ['spec', 'tools', 'mcp', index, 'server'];
    if (namesWithProblems.has(`Service/${entry.server}`)) return;
    const service = state.services.get(entry.server)?.value;
    if (!service?.spec.mcp) {
      const why = service
        ? `services/ defines "${entry.server}" without spec.mcp: add spec.mcp (transport stdio or http) to it`
        : `services/ defines no service of that name: add services/${entry.server}.yaml with spec.mcp${suggestion(entry.server, state.services.keys())}`;
      problems.push(problemAt(document.locate(path), path, `MCP server "${entry.server}": ${why}`));
      return;
    }
    const prefix = service.spec.mcp.toolPrefix ?? defaultToolPrefix(entry.server);
    entry.allow.forEach((tool, position) => {
      const name = `${prefix}${tool}`;
      const other = exposed.get(name);
      exposed.set(name, `${entry.server}/${tool}`);
      if (other === undefined) return;
      const at = ['spec', 'tools', 'mcp', index, 'allow', position];
      problems.push(
        problemAt(
          document.locate(at),
          at,
          `tool "${tool}" of "${entry.server}" would be exposed as "${name}", like ${other}: give one of the services a distinct spec.mcp.toolPrefix`,
        ),
      );
    });
  });
  return problems;
}

function unknownName(noun: string, name: string, folder: string, known: Iterable<string>): string {
  return `no ${noun} is named "${name}" (metadata.name in ${folder}/)${suggestion(name, known)}`;
}

/**
 * Checks of the effective blueprint (after `extends` is applied), because a child
 * may inherit its writes from one blueprint and its services or review gates from
 * another: every write goes to a service the blueprint allows, and a write that
 * needs review has reviewers to ask. `locate` maps a path of `effective` to the
 * file that supplied it.
 */
export function checkEffectiveBlueprint(
  effective: Blueprint,
  file: string,
  locate: (path: FieldPath) => SourceLocation,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const spec = effective.spec;
  const services = (spec.services ?? []).map((service) => service.name);
  const name = effective.metadata.name;
  // A write inherited from a parent is located in the parent's file; say so, since
  // the blueprint named in the message is not the one in that file.
  const subject = (location: SourceLocation, own: string, inherited: string) =>
    `blueprint "${name}" ${location.file === file ? own : inherited}`;
  (spec.writes ?? []).forEach((write, index) => {
    if (services.includes(write.service)) return;
    const path = ['spec', 'writes', index, 'service'];
    const location = locate(path);
    const allowed = services.length ? `; its services are ${services.join(', ')}` : '; it allows no services';
    const who = subject(location, 'writes to', 'inherits this write to');
    problems.push(
      problemAt(
        location,
        path,
        `${who} service "${write.service}", which is not in its spec.services${suggestion(write.service, services) || allowed}`,
      ),
    );
  });
  (spec.services ?? []).forEach((service, index) => {
    if (service.access === undefined) return;
    const allowed = methodsAllowedBy(service.access);
    service.rules?.forEach((rule, ruleIndex) => {
      rule.methods.forEach((method, methodIndex) => {
        if (allowed.includes(method)) return;
        // The gateway checks access and rules both, so such a rule could never match.
        const path = ['spec', 'services', index, 'rules', ruleIndex, 'methods', methodIndex];
        problems.push(
          problemAt(
            locate(path),
            path,
            `${method} is outside access ${service.access} (${allowed.join(', ')}), so this rule can never match: widen access or drop the method`,
          ),
        );
      });
    });
  });
  const gated = (spec.writes ?? []).findIndex((write) => write.review === 'required');
  if (gated !== -1 && spec.reviewGates === undefined) {
    const path = ['spec', 'writes', gated, 'review'];
    const location = locate(path);
    const who = subject(
      location,
      'requires review of this write',
      'inherits this write, which requires review,',
    );
    problems.push(
      problemAt(
        location,
        path,
        `${who} but has no spec.reviewGates: add reviewGates with the reviewers who approve it`,
      ),
    );
  }
  return problems;
}
