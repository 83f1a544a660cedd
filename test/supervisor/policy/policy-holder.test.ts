import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CompiledBundle, compileCommit } from '../../../src/controlplane/releases/index.ts';
import { parseReleaseBundle, type ReleaseBundle } from '../../../src/policy/index.ts';
import { PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { commitAll, exampleRepository, tempDir } from '../../support/releases.ts';

// A bundle is applied atomically between decisions: no decision sees a mix of two bundles, and
// each one names the bundle that made it.

describe('PolicyHolder', () => {
  const temp = tempDir('paddock-holder-');
  let strict: CompiledBundle;
  let relaxed: CompiledBundle;
  before(async () => {
    const source = exampleRepository(temp.path);
    const file = join(source.dir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
    const second = commitAll(source.dir, 'allow npm ci');
    strict = (await compileCommit({ repoDir: source.dir, commit: source.commit })).bundles.find(
      (b) => b.name === 'code-review',
    )!;
    relaxed = (await compileCommit({ repoDir: source.dir, commit: second })).bundles.find(
      (b) => b.name === 'code-review',
    )!;
  });
  after(() => temp.cleanup());

  it('every decision during a stream of applies matches the bundle it names', async () => {
    const holder = new PolicyHolder({ memoEntries: 0 });
    const bundles = [strict, relaxed].map((compiled) => ({
      bundle: parseReleaseBundle(compiled.bytes),
      hash: compiled.sha256,
    }));
    const expected = new Map([
      [bundles[0]!.bundle.id, 'deny'],
      [bundles[1]!.bundle.id, 'allow'],
    ]);
    let decisions = 0;
    let applies = 0;
    const deciding = (async () => {
      while (applies < 40) {
        const decision = holder.decide({ action: 'exec', argv: ['npm', 'ci'] });
        if (decision.bundle.id !== 'deny-all') {
          assert.equal(
            decision.decision,
            expected.get(decision.bundle.id),
            `decision by ${decision.bundle.id}`,
          );
          decisions++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (; applies < 40; applies++) {
      const next = bundles[applies % 2]!;
      holder.apply(next.bundle, { hash: next.hash, release: applies + 1 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await deciding;
    assert.ok(decisions >= 20, `${decisions} decisions interleaved with the applies`);
  });

  it('listeners see the new policy in the same tick, before any later decision', () => {
    const holder = new PolicyHolder();
    const seen: string[] = [];
    holder.onApplied((applied) => {
      // What the gateway and the PDP socket are handed is what decides from now on.
      assert.equal(holder.current, applied);
      seen.push(`${applied.ref.id} ${applied.egress.services.map((service) => service.name).join(',')}`);
    });
    const bundle = parseReleaseBundle(strict.bytes);
    holder.apply(bundle, { hash: strict.sha256, release: 1 });
    holder.denyAll();
    assert.deepEqual(seen, [
      `${bundle.id} ${bundle.network.services.map((service) => service.name).join(',')}`,
      'deny-all ',
    ]);
  });

  it('a bundle whose policies do not load changes nothing', () => {
    const holder = new PolicyHolder();
    const good = parseReleaseBundle(strict.bytes);
    holder.apply(good, { hash: strict.sha256, release: 1 });
    const before = holder.current;
    const broken: ReleaseBundle = {
      ...good,
      policy: {
        ...good.policy,
        policies: [{ id: 'x', effect: 'permit', text: 'permit (principal, action, resource', source: {} }],
      },
    };
    assert.throws(() => holder.apply(broken, { hash: 'f'.repeat(64), release: 2 }));
    assert.equal(holder.current, before);
  });
});
