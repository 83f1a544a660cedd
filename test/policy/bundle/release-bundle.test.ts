import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileReleaseBundle,
  createDecisionPoint,
  denyAllBundle,
  parseReleaseBundle,
  POLICY_PROTECTED_PATHS,
  type ReleaseBundleInput,
  releaseBundleHash,
  serializeReleaseBundle,
} from '../../../src/policy/index.ts';

const input = (): ReleaseBundleInput => ({
  policy: {
    blueprint: {
      name: 'code-review',
      version: '1.3.0',
      commands: { allow: ['git *', 'npm test'], deny: ['git push *'] },
      services: [{ name: 'github', hosts: ['api.github.com'], ports: [443], access: 'read-only' }],
      dataScope: { read: ['/workspace'], write: ['/workspace'], deny: ['/workspace/.env'] },
    },
    protectedPaths: POLICY_PROTECTED_PATHS,
  },
  filesystem: { read: ['/workspace'], write: ['/workspace'], deny: ['/workspace/.env'] },
  reviewGates: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
  logging: { toolArguments: 'redacted', redact: ['(?i)password'], retention: '365d' },
  source: {
    commit: 'a'.repeat(40),
    // Given out of order: the bundle sorts them.
    files: [
      { path: 'services/github.yaml', sha256: 'b'.repeat(64) },
      { path: 'blueprints/code-review.yaml', sha256: 'c'.repeat(64) },
    ],
  },
});

describe('release bundles (issue 8, item 1)', () => {
  it('serialises the same input to byte-identical canonical JSON', () => {
    const first = serializeReleaseBundle(compileReleaseBundle(input()));
    const second = serializeReleaseBundle(compileReleaseBundle(input()));
    assert.deepEqual(first, second);
    assert.equal(releaseBundleHash(first), releaseBundleHash(second));
    const text = new TextDecoder().decode(first);
    assert.doesNotMatch(text, /\n|": /, 'no whitespace');
    assert.ok(text.startsWith('{"blueprint":'), 'keys sorted');
  });

  it('carries policies and schema, network, filesystem, review gates, logging, commit and hashes', () => {
    const bundle = compileReleaseBundle(input());
    assert.equal(bundle.format, 'paddock.dev/bundle/v1');
    assert.match(bundle.id, /^code-review:[0-9a-f]{16}$/);
    assert.equal(bundle.version, '1.3.0');
    assert.ok(bundle.policy.policies.some((policy) => policy.id === 'commands.deny[0]'));
    assert.match(bundle.policy.schema, /entity/);
    assert.deepEqual(
      bundle.network.services.map((service) => service.name),
      ['github'],
    );
    assert.deepEqual(bundle.filesystem.deny, ['/workspace/.env']);
    assert.equal(bundle.reviewGates?.minApprovals, 1);
    assert.equal(bundle.logging.retention, '365d');
    assert.equal(bundle.source.commit, 'a'.repeat(40));
    assert.deepEqual(
      bundle.source.files.map((file) => file.path),
      ['blueprints/code-review.yaml', 'services/github.yaml'],
    );
    assert.match(bundle.contentHash, /^[0-9a-f]{64}$/);
  });

  it('parses its own bytes back to an equal bundle', () => {
    const bundle = compileReleaseBundle(input());
    assert.deepEqual(parseReleaseBundle(serializeReleaseBundle(bundle)), JSON.parse(JSON.stringify(bundle)));
  });

  it('refuses an edited bundle whose content hash no longer matches', () => {
    const bundle = JSON.parse(
      new TextDecoder().decode(serializeReleaseBundle(compileReleaseBundle(input()))),
    );
    bundle.network.services[0].hosts = ['attacker.example'];
    const edited = new TextEncoder().encode(JSON.stringify(bundle));
    assert.throws(
      () => parseReleaseBundle(edited),
      (error: Error & { code?: string }) =>
        error.code === 'PDK_RELEASE_BUNDLE_INVALID' && /content hash does not match/.test(error.message),
    );
  });

  it('refuses bytes that are not the canonical form, and unknown fields', () => {
    const canonical = new TextDecoder().decode(serializeReleaseBundle(compileReleaseBundle(input())));
    const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(canonical), null, 2));
    assert.throws(() => parseReleaseBundle(pretty), {
      code: 'PDK_RELEASE_BUNDLE_INVALID',
      message: 'release bundle rejected: the bytes are not in canonical form',
    });
    const extra = new TextEncoder().encode(canonical.replace(/^\{/, '{"allowAll":true,'));
    assert.throws(() => parseReleaseBundle(extra), { code: 'PDK_RELEASE_BUNDLE_INVALID' });
    assert.throws(() => parseReleaseBundle(new Uint8Array([0xff, 0xfe])), {
      code: 'PDK_RELEASE_BUNDLE_INVALID',
    });
  });

  it('refuses a commit that is not a full id', () => {
    assert.throws(() => compileReleaseBundle({ ...input(), source: { commit: 'main', files: [] } }), {
      code: 'PDK_RELEASE_BUNDLE_INVALID',
      message: '"main" is not a full Git commit id (or sha256:HEX directory digest)',
    });
  });

  it('the deny-all bundle denies every action and names itself', () => {
    const pdp = createDecisionPoint(denyAllBundle());
    for (const request of [
      { action: 'exec', argv: ['ls'] },
      { action: 'read_file', path: '/workspace/a' },
      { action: 'connect', host: 'api.github.com', port: 443 },
      { action: 'http_request', method: 'GET', url: 'https://api.github.com/' },
      { action: 'mcp_call', server: 'github', tool: 'get_pull_request' },
    ] as const) {
      const decision = pdp.decide(request);
      assert.equal(decision.decision, 'deny', request.action);
      assert.deepEqual(decision.bundle, { id: 'deny-all', version: '0' });
    }
  });
});
