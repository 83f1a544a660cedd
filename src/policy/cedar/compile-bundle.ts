import { createHash } from 'node:crypto';
import { PaddockError } from '../../core/index.ts';
import type { BundlePolicy, ExtraPolicyFile, PolicyBundle, PolicyBundleInput } from './bundle-types.ts';
import { compileFiles } from './compile-files.ts';
import { compileNetwork } from './compile-network.ts';
import { compileTools } from './compile-tools.ts';
import { type PolicyProblem, parseExtraPolicies } from './extra-policies.ts';
import { renderGenerated } from './cedar-text.ts';
import { CEDAR_SCHEMA } from './schema.ts';
import { validatePolicies } from './wasm.ts';

// Blueprint + policies/*.cedar → a bundle: every policy with a stable id and its source, the
// schema they all validate against (strictly), and the data the decision point precomputes
// context from. The bundle id defaults to a digest of exactly what decides, so two supervisors
// holding the same id hold the same policy.

const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Compiles a bundle. Throws PDK_POLICY_PARSE (an extra policy does not parse) or
 * PDK_POLICY_INVALID (bad annotations, a policy that does not validate against the schema,
 * duplicate ids, a bad host), with `details.problems` located as `file:line:column`.
 *
 * @example
 * const bundle = compilePolicyBundle({ blueprint: { name: 'code-review', version: '1.3.0',
 *   commands: { allow: ['git *'], deny: ['git push *'] } }, protectedPaths: { top: [], anyDepth: [] } });
 * bundle.policies.map((policy) => policy.id); // ['commands.allow[0]', 'commands.deny[0]']
 */
export function compilePolicyBundle(input: PolicyBundleInput): PolicyBundle {
  const { blueprint } = input;
  if (!BLUEPRINT_NAME.test(blueprint.name)) {
    throw new PaddockError('PDK_POLICY_INVALID', `blueprint name "${blueprint.name}" is not a DNS label`);
  }
  const pathGlobs = new Set<string>();
  const generated = [
    ...compileTools(blueprint),
    ...compileFiles(blueprint, input.protectedPaths),
    ...compileNetwork(blueprint, pathGlobs),
  ];
  const policies: BundlePolicy[] = generated.map((policy) => ({
    id: policy.id,
    effect: policy.effect,
    text: renderGenerated(policy, blueprint.name),
    source: { field: policy.field },
  }));
  const extras = checkExtras(input.extraPolicies ?? []);
  policies.push(...extras);

  const seen = new Set<string>();
  const duplicates = policies.filter((policy) => seen.size === seen.add(policy.id).size);
  if (duplicates.length > 0) {
    throw new PaddockError(
      'PDK_POLICY_INVALID',
      `duplicate policy ids ${duplicates.map((policy) => policy.id).join(', ')}: each service and MCP server may be listed once`,
    );
  }
  const generatedProblems = validatePolicies(
    CEDAR_SCHEMA,
    Object.fromEntries(policies.slice(0, generated.length).map((policy) => [policy.id, policy.text])),
  );
  if (generatedProblems.length > 0) {
    // Generated text that does not validate is our bug, never the operator's.
    throw new PaddockError('PDK_INTERNAL', `generated policy ${generatedProblems[0]!.policyId} is invalid`, {
      details: generatedProblems,
    });
  }
  const services = (blueprint.services ?? []).map((service) => structuredClone(service));
  const digest = createHash('sha256')
    .update(JSON.stringify({ schema: CEDAR_SCHEMA, policies, services, pathGlobs: [...pathGlobs] }))
    .digest('hex');
  return deepFreeze({
    id: input.bundle?.id ?? `${blueprint.name}:${digest.slice(0, 16)}`,
    version: input.bundle?.version ?? blueprint.version,
    blueprint: { name: blueprint.name, version: blueprint.version },
    policies,
    schema: CEDAR_SCHEMA,
    services,
    pathGlobs: [...pathGlobs],
  });
}

/**
 * Every problem of a set of policy files: syntax, annotations, and strict validation against the
 * Paddock schema. Empty when they can join a bundle. `paddock validate` reports these.
 */
export function checkPolicyFiles(files: readonly ExtraPolicyFile[]): PolicyProblem[] {
  return checkedExtras(files).problems;
}

function checkedExtras(files: readonly ExtraPolicyFile[]): {
  policies: BundlePolicy[];
  problems: PolicyProblem[];
} {
  const { policies, problems } = parseExtraPolicies(files);
  const byId = new Map(policies.map((parsed) => [parsed.policy.id, parsed]));
  const texts = Object.fromEntries(policies.map(({ policy }) => [policy.id, policy.text]));
  for (const { policyId, problem } of policies.length > 0 ? validatePolicies(CEDAR_SCHEMA, texts) : []) {
    const parsed = policyId === undefined ? undefined : byId.get(policyId);
    const file = parsed?.policy.source.file ?? files[0]?.file ?? 'policies';
    const { line, column } = parsed ? parsed.locate(problem.offset ?? 0) : { line: 1, column: 1 };
    problems.push({ file, line, column, path: '', message: problem.message, code: 'PDK_POLICY_INVALID' });
  }
  problems.sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1,
  );
  return { policies: policies.map(({ policy }) => policy), problems };
}

function checkExtras(files: readonly ExtraPolicyFile[]): BundlePolicy[] {
  if (files.length === 0) return [];
  const { policies, problems } = checkedExtras(files);
  if (problems.length > 0) {
    const first = problems[0]!;
    const code = problems.some((problem) => problem.code === 'PDK_POLICY_PARSE')
      ? 'PDK_POLICY_PARSE'
      : 'PDK_POLICY_INVALID';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new PaddockError(code, `${first.file}:${first.line}:${first.column} ${first.message}${more}`, {
      details: { problems },
    });
  }
  return policies;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
