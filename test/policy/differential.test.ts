import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileEgressPolicy,
  createDecisionPoint,
  decideConnect,
  decideRequest,
  findService,
  type DecisionRequest,
  type PolicyDecision,
} from '../../src/policy/index.ts';
import { EXAMPLE_BLUEPRINTS, exampleBundles } from './pdp-fixtures.ts';
import { requestGenerator } from './request-generator.ts';

// The fast path against Cedar: for every example blueprint, thousands of seeded random requests
// must get the same decision, reason and determining policies from both. A mismatch prints the
// seed and the request so it can be replayed.

const REQUESTS_PER_BLUEPRINT = 3000;

const summary = (decision: PolicyDecision) => ({
  decision: decision.decision,
  reason: decision.reason,
  policyIds: decision.policyIds,
});

describe('differential: fast path vs Cedar', () => {
  for (const [index, name] of EXAMPLE_BLUEPRINTS.entries()) {
    it(`${name}: ${REQUESTS_PER_BLUEPRINT} random requests decide identically`, async () => {
      const { bundle } = (await exampleBundles()).get(name)!;
      const pdp = createDecisionPoint(bundle, { principal: { session: 's', user: 'u', groups: ['g'] } });
      assert.ok(
        Object.values(pdp.engines).every((engine) => engine === 'fast'),
        'every action on the fast path',
      );
      const seed = 1000 + index;
      const generate = requestGenerator(bundle, seed);
      const seen = new Set<string>();
      for (let count = 0; count < REQUESTS_PER_BLUEPRINT; count++) {
        const request = generate();
        const fast = pdp.decideWith('fast', request);
        const cedar = pdp.decideWith('cedar', request);
        assert.deepEqual(summary(fast), summary(cedar), `seed ${seed} #${count}: ${JSON.stringify(request)}`);
        seen.add(`${request.action} ${fast.decision}`);
      }
      // The generator must actually reach every outcome, or the comparison proves little.
      for (const action of ['exec', 'read_file', 'write_file', 'connect', 'http_request'])
        for (const decision of ['allow', 'deny'])
          assert.ok(seen.has(`${action} ${decision}`), `${action} ${decision} reached`);
    });
  }

  it('connect decisions equal the egress gateway’s own policy (decideConnect)', async () => {
    for (const [index, name] of EXAMPLE_BLUEPRINTS.entries()) {
      const { bundle } = (await exampleBundles()).get(name)!;
      const pdp = createDecisionPoint(bundle);
      const egress = compileEgressPolicy(bundle.services);
      const generate = requestGenerator(bundle, 2000 + index);
      let compared = 0;
      while (compared < 1000) {
        const request = generate() as DecisionRequest & { host?: string; port?: number };
        if (request.action !== 'connect') continue;
        compared++;
        const gateway = decideConnect(egress, request.host!, request.port!);
        const decision = pdp.decide(request);
        assert.equal(decision.decision === 'allow', gateway.allow, `${name}: ${JSON.stringify(request)}`);
        if (gateway.allow) assert.ok(decision.policyIds.includes(`services[${gateway.service}].hosts`));
      }
    }
  });

  it('http_request decisions equal the egress gateway’s request stage (decideRequest)', async () => {
    for (const [index, name] of EXAMPLE_BLUEPRINTS.entries()) {
      const { bundle } = (await exampleBundles()).get(name)!;
      const pdp = createDecisionPoint(bundle);
      const egress = compileEgressPolicy(bundle.services);
      const generate = requestGenerator(bundle, 3000 + index);
      let compared = 0;
      while (compared < 1000) {
        const request = generate() as DecisionRequest & {
          host?: string;
          port?: number;
          path?: string;
          method?: string;
        };
        if (request.action !== 'http_request') continue;
        const connect = decideConnect(egress, request.host!, request.port!);
        // Requests the gateway would never inspect (no service, or an L4-only one) are not compared.
        const service = connect.allow ? findService(egress, connect.service!) : undefined;
        if (!service?.inspect) continue;
        compared++;
        const gateway = decideRequest(service, request.method!, request.path!.split('?')[0]!);
        const decision = pdp.decide(request);
        // A review is a permit the gate holds: the gateway lets the service's rules decide.
        assert.equal(decision.decision !== 'deny', gateway.allow, `${name}: ${JSON.stringify(request)}`);
      }
    }
  });
});
