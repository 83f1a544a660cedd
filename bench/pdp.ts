// Policy decision point: in-process decision latency over 100,000 mixed requests (every action,
// all six example blueprints of examples/platform, with their policies/*.cedar), beside the
// plain cedar-wasm pre-parsed path measured on the same requests in the same run (the peer).
// Variants:
//   cedar-wasm      the peer: each bundle's whole policy set pre-parsed once (preparsePolicySet),
//                   statefulIsAuthorized per request with the same entities and context
//   cedar-sliced    Cedar over one pre-parsed set per action (decideWith('cedar')): the
//                   reference path, used for actions the fast path does not serve
//   pdp-no-memo     decide() with the memo off: every request compiled-closure evaluated
//   pdp             decide() as the supervisor runs it (fast path + 4096-entry memo)
// Every figure includes preparing the request (normalization, the precomputed context), which
// all variants share. Target: pdp p99 under 100 µs. Results: bench/results/pdp.json.
// The workload generator is the differential tests' (test/policy/request-generator.ts), so the
// benchmark measures the same kind of requests the tests prove both paths agree on.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadRepository, resolveBlueprint } from '../src/config/index.ts';
import {
  compilePolicyBundle,
  createDecisionPoint,
  type DecisionPoint,
  type DecisionRequest,
  type PolicyBundle,
} from '../src/policy/index.ts';
import { authorizePreparsed, cedarVersion, preparsePolicySet } from '../src/policy/cedar/wasm.ts';
import { toCedarJson } from '../src/policy/pdp/values.ts';
import { policyInputFromBlueprint } from '../src/supervisor/pdp/index.ts';
import { requestGenerator } from '../test/policy/request-generator.ts';

const REQUESTS = Number(process.env.PADDOCK_BENCH_REQUESTS ?? 100_000);
const WARMUP = 5_000;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples/platform/', import.meta.url));
const BLUEPRINTS = [
  'code-review',
  'coding-agent',
  'coding-base',
  'data-analysis',
  'docs-research',
  'ticket-triage',
];
const PRINCIPAL = { session: 'bench-session', user: 'alice@example.com', groups: ['engineering'] };

interface Target {
  readonly name: string;
  readonly bundle: PolicyBundle;
  readonly policies: number;
  readonly memo: DecisionPoint;
  readonly noMemo: DecisionPoint;
  readonly fullSetId: string;
}

const { state } = await loadRepository(EXAMPLES);
const targets: Target[] = BLUEPRINTS.map((name) => {
  const bundle = compilePolicyBundle(policyInputFromBlueprint(resolveBlueprint(state, name), state.policies));
  const fullSetId = `bench-full:${bundle.id}`;
  preparsePolicySet(fullSetId, Object.fromEntries(bundle.policies.map((policy) => [policy.id, policy.text])));
  return {
    name,
    bundle,
    policies: bundle.policies.length,
    memo: createDecisionPoint(bundle, { principal: PRINCIPAL }),
    noMemo: createDecisionPoint(bundle, { principal: PRINCIPAL, memoEntries: 0 }),
    fullSetId,
  };
});

// The workload: requests drawn from each bundle's vocabulary, interleaved across blueprints.
const generators = targets.map((target, index) => requestGenerator(target.bundle, 500 + index));
const workload: { target: Target; request: DecisionRequest }[] = [];
for (let index = 0; index < REQUESTS + WARMUP; index++) {
  const which = index % targets.length;
  workload.push({ target: targets[which]!, request: generators[which]!() });
}

type Variant = (target: Target, request: DecisionRequest) => unknown;

const plainCedar: Variant = (target, request) => {
  const prepared = target.noMemo.prepare(request);
  if ('refusal' in prepared) return prepared.refusal;
  return authorizePreparsed(target.fullSetId, {
    principal: prepared.principal.cedar.uid,
    action: { type: 'Action', id: prepared.input.action },
    resource: { type: prepared.input.resourceType, id: prepared.input.resourceId },
    context: toCedarJson(prepared.input.context) as Record<string, never>,
    entities: prepared.principal.cedar.entities,
  });
};

const VARIANTS: [string, Variant][] = [
  ['cedar-wasm', plainCedar],
  ['cedar-sliced', (target, request) => target.noMemo.decideWith('cedar', request)],
  ['pdp-no-memo', (target, request) => target.noMemo.decide(request)],
  ['pdp', (target, request) => target.memo.decide(request)],
];

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function measure(variant: Variant) {
  for (let index = 0; index < WARMUP; index++) variant(workload[index]!.target, workload[index]!.request);
  const samples = new Float64Array(REQUESTS);
  for (let index = 0; index < REQUESTS; index++) {
    const { target, request } = workload[WARMUP + index]!;
    const started = process.hrtime.bigint();
    variant(target, request);
    samples[index] = Number(process.hrtime.bigint() - started) / 1000;
  }
  samples.sort();
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  return {
    p50Us: percentile(samples, 50),
    p90Us: percentile(samples, 90),
    p99Us: percentile(samples, 99),
    p999Us: percentile(samples, 99.9),
    meanUs: mean,
  };
}

const results: ({ name: string } & ReturnType<typeof measure>)[] = [];
for (const [name, variant] of VARIANTS) {
  results.push({ name, ...measure(variant) });
  process.stdout.write(`${name} done\n`);
}

const peer = results[0]!;
const fixed = (value: number) => value.toFixed(1).padStart(8);
process.stdout.write(
  `\n${REQUESTS} mixed requests over ${targets.length} bundles (${targets.map((t) => `${t.name} ${t.policies}`).join(', ')} policies), cedar ${cedarVersion()}\n`,
);
process.stdout.write(
  `${'variant'.padEnd(14)}    p50 µs   p90 µs   p99 µs p99.9 µs  mean µs  p50 vs peer  p99 vs peer\n`,
);
for (const result of results) {
  process.stdout.write(
    `${result.name.padEnd(14)}${fixed(result.p50Us)} ${fixed(result.p90Us)} ${fixed(result.p99Us)} ${fixed(result.p999Us)} ${fixed(result.meanUs)}  ${`${(peer.p50Us / result.p50Us).toFixed(1)}x`.padStart(11)}  ${`${(peer.p99Us / result.p99Us).toFixed(1)}x`.padStart(11)}\n`,
  );
}
const pdp = results.find((result) => result.name === 'pdp')!;
const verdict = pdp.p99Us < 100 ? 'met' : 'NOT met';
process.stdout.write(`target p99 < 100 µs: ${verdict} (pdp p99 ${pdp.p99Us.toFixed(1)} µs)\n`);

writeFileSync(
  `${RESULTS}pdp.json`,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cedar: cedarVersion(),
      requests: REQUESTS,
      bundles: targets.map((target) => ({ blueprint: target.name, policies: target.policies })),
      peer: 'cedar-wasm',
      results: results.map((result) => ({
        ...result,
        p50VsPeer: peer.p50Us / result.p50Us,
        p99VsPeer: peer.p99Us / result.p99Us,
      })),
      targetP99Us: 100,
      targetMet: pdp.p99Us < 100,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write('wrote bench/results/pdp.json\n');
