import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { PaddockError } from '../../core/index.ts';

// The one boundary to @cedar-policy/cedar-wasm (DESIGN.md §7: Cedar is the policy language and
// its reference engine; we wrap it here and nowhere else). The module is loaded on first use:
// compiling its WebAssembly takes ~35 ms, which commands and processes that never decide
// (the hook client, `paddock validate` without policies) should not pay.

export type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
export type CedarEntity = CedarWasm.EntityJson;
export type CedarContext = CedarWasm.Context;

let loaded: typeof CedarWasm | undefined;

function cedar(): typeof CedarWasm {
  loaded ??= createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as typeof CedarWasm;
  return loaded;
}

/** A Cedar error with its position in the text it came from (UTF-8 byte offsets as Cedar counts). */
export interface CedarProblem {
  readonly message: string;
  readonly offset?: number;
}

function problemsOf(errors: readonly CedarWasm.DetailedError[]): CedarProblem[] {
  return errors.map((error) => {
    const offset = error.sourceLocations?.[0]?.start;
    const help = error.help ? ` (${error.help})` : '';
    return { message: `${error.message}${help}`, ...(offset === undefined ? {} : { offset }) };
  });
}

/** The Cedar engine's version, for bundles and `paddock doctor`. */
export function cedarVersion(): string {
  return cedar().getCedarVersion();
}

/** Splits a policy file into its policies' source texts, or reports why it does not parse. */
export function splitPolicies(
  text: string,
): { ok: true; policies: string[] } | { ok: false; problems: CedarProblem[] } {
  const answer = cedar().policySetTextToParts(text);
  if (answer.type === 'failure') return { ok: false, problems: problemsOf(answer.errors) };
  if (answer.policy_templates.length > 0)
    return { ok: false, problems: [{ message: 'templates are not supported; write static policies' }] };
  return { ok: true, policies: answer.policies };
}

/** The JSON form (EST) of one policy's text. */
export function policyToJson(text: string): CedarWasm.PolicyJson {
  const answer = cedar().policyToJson(text);
  if (answer.type === 'failure') {
    throw new PaddockError('PDK_POLICY_PARSE', `Cedar policy does not parse: ${answer.errors[0]?.message}`);
  }
  return answer.json;
}

/** Problems of a schema text (empty when it parses). */
export function checkSchema(schema: string): CedarProblem[] {
  const answer = cedar().checkParseSchema(schema);
  return answer.type === 'failure' ? problemsOf(answer.errors) : [];
}

/** Strict validation of policies (id → text) against a schema: problems by policy id. */
export function validatePolicies(
  schema: string,
  policies: Readonly<Record<string, string>>,
): { policyId: string | undefined; problem: CedarProblem }[] {
  const answer = cedar().validate({
    schema,
    policies: { staticPolicies: { ...policies } },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure')
    return problemsOf(answer.errors).map((problem) => ({ policyId: undefined, problem }));
  return answer.validationErrors.map((error) => ({
    policyId: error.policyId,
    problem: problemsOf([error.error])[0]!,
  }));
}

/**
 * Parses a policy set once into the engine's thread-local cache under `setId`. The cache has no
 * eviction: callers key sets by bundle digest, so it holds one entry per distinct bundle slice.
 */
export function preparsePolicySet(setId: string, policies: Readonly<Record<string, string>>): void {
  const answer = cedar().preparsePolicySet(setId, { staticPolicies: { ...policies } });
  if (answer.type === 'failure') {
    throw new PaddockError('PDK_POLICY_PARSE', `policy set ${setId} does not parse`, {
      details: problemsOf(answer.errors),
    });
  }
}

/** One request for the engine, in Cedar's JSON forms. */
export interface CedarRequest {
  readonly principal: CedarWasm.TypeAndId;
  readonly action: CedarWasm.TypeAndId;
  readonly resource: CedarWasm.TypeAndId;
  readonly context: CedarContext;
  readonly entities: CedarEntity[];
}

/** What Cedar answered: the decision, the determining policies (`reason`) and the erroring ones. */
export interface CedarAnswer {
  readonly allow: boolean;
  readonly reason: readonly string[];
  readonly errored: readonly string[];
}

/** Evaluates a request against a pre-parsed set. Throws PDK_POLICY_ENGINE if the engine fails. */
export function authorizePreparsed(setId: string, request: CedarRequest): CedarAnswer {
  const answer = cedar().statefulIsAuthorized({
    principal: request.principal,
    action: request.action,
    resource: request.resource,
    context: request.context,
    entities: request.entities,
    preparsedPolicySetId: setId,
    validateRequest: false,
  });
  if (answer.type === 'failure') {
    throw new PaddockError('PDK_POLICY_ENGINE', `Cedar failed on policy set ${setId}`, {
      details: problemsOf(answer.errors),
    });
  }
  const { decision, diagnostics } = answer.response;
  return {
    allow: decision === 'allow',
    reason: diagnostics.reason,
    errored: diagnostics.errors.map((error) => error.policyId),
  };
}

/** Checks that a context is well-typed for an action under the schema (tests and explain). */
export function checkContext(schema: string, action: string, context: CedarContext): CedarProblem[] {
  const answer = cedar().checkParseContext({ context, schema, action: { type: 'Action', id: action } });
  return answer.type === 'failure' ? problemsOf(answer.errors) : [];
}
