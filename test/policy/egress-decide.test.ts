import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/index.ts';
import {
  compileEgressPolicy,
  decideAddresses,
  decideConnect,
  decideRequest,
  type EgressServiceSpec,
  findService,
} from '../../src/policy/index.ts';

const SPECS: EgressServiceSpec[] = [
  {
    name: 'github',
    hosts: ['api.github.com'],
    ports: [443],
    access: 'read-only',
    rules: [{ methods: ['GET'], paths: ['/repos/**'] }],
    credential: 'github-pat',
  },
  { name: 'wild', hosts: ['*.example.com'], ports: [443, 8443] },
  { name: 'exact-over-wild', hosts: ['api.example.com'], ports: [443], access: 'read-write' },
  { name: 'internal', hosts: ['git.corp.example.net'], ports: [443], cidrs: ['10.20.0.0/16', 'fd12::/48'] },
  { name: 'literal', hosts: ['93.184.216.34', '[2606:4700::1]'], ports: [80] },
  { name: 'token-only', hosts: ['api.openai.com'], credential: 'openai' },
  {
    name: 'rules-only',
    hosts: ['npm.mirror.example.com'],
    rules: [{ methods: ['GET', 'HEAD'], paths: ['/*', '/@*/*'] }],
  },
];
const policy = compileEgressPolicy(SPECS);
const service = (name: string) => findService(policy, name)!;

describe('decideConnect', () => {
  it('allows an exact host on an allowed port, normalizing case and trailing dot', () => {
    const decision = decideConnect(policy, 'API.GitHub.com.', 443);
    assert.equal(decision.allow, true);
    assert.deepEqual(
      { ...decision },
      {
        allow: true,
        stage: 'connect',
        reason: 'host_allowed',
        service: 'github',
        rule: 'github#hosts',
        host: 'api.github.com',
        literal: false,
        inspect: true,
      },
    );
  });

  it('denies by default, naming default-deny', () => {
    const decision = decideConnect(policy, 'evil.com', 443);
    assert.deepEqual(
      { allow: decision.allow, reason: decision.reason, rule: decision.rule },
      { allow: false, reason: 'no_matching_service', rule: 'default-deny' },
    );
  });

  it('denies a port the service does not list', () => {
    const decision = decideConnect(policy, 'api.github.com', 22);
    assert.equal(decision.allow, false);
    assert.equal(decision.reason, 'port_not_allowed');
    assert.equal(decision.service, 'github');
    assert.match(decision.detail!, /port 22 is not in github's ports \[443\]/);
  });

  it('wildcards match exactly one label; exact patterns win over wildcards', () => {
    assert.equal(decideConnect(policy, 'cdn.example.com', 8443).service, 'wild');
    assert.equal(decideConnect(policy, 'a.b.example.com', 443).allow, false);
    assert.equal(decideConnect(policy, 'example.com', 443).allow, false);
    assert.equal(decideConnect(policy, 'api.example.com', 443).service, 'exact-over-wild');
    // The exact service lacks 8443, the wildcard has it.
    assert.equal(decideConnect(policy, 'api.example.com', 8443).service, 'wild');
  });

  it('allows an IP literal only where a service lists that literal', () => {
    assert.equal(decideConnect(policy, '93.184.216.34', 80).allow, true);
    assert.equal(decideConnect(policy, '[2606:4700:0::1]', 80).allow, true);
    const other = decideConnect(policy, '93.184.216.35', 80);
    assert.equal(other.reason, 'ip_literal_not_allowed');
    // A literal never matches through a wildcard or a name.
    assert.equal(decideConnect(policy, '127.0.0.1', 443).reason, 'ip_literal_not_allowed');
  });

  for (const tricky of ['2130706433', '0x7f.1', '017700000001', '0x5d.0xb8.0xd8.0x22', '1572395042']) {
    it(`refuses the numeric IPv4 form ${tricky}`, () => {
      assert.equal(decideConnect(policy, tricky, 80).reason, 'ip_literal_noncanonical');
    });
  }

  it('refuses hosts that are not hosts', () => {
    assert.equal(decideConnect(policy, 'api.github.com/x', 443).reason, 'invalid_host');
    assert.equal(decideConnect(policy, 'api.github.com:443', 443).reason, 'invalid_host');
    assert.equal(decideConnect(policy, '', 443).reason, 'invalid_host');
  });

  it('reports whether requests are inspected', () => {
    const inspect = (host: string, port = 443) => {
      const decision = decideConnect(policy, host, port);
      return decision.allow && 'inspect' in decision ? decision.inspect : undefined;
    };
    assert.equal(inspect('api.github.com'), true);
    assert.equal(inspect('x.example.com'), false);
    assert.equal(inspect('api.openai.com'), true);
    assert.equal(inspect('npm.mirror.example.com'), true);
  });
});

describe('decideAddresses', () => {
  it('allows public addresses', () => {
    const decision = decideAddresses(service('github'), ['140.82.112.5', '2606:50c0:8000::154']);
    assert.deepEqual(
      { ...decision },
      { allow: true, stage: 'address', reason: 'address_allowed', service: 'github', rule: 'github#hosts' },
    );
  });

  it('denies when any one address is private, loopback or metadata', () => {
    for (const bad of [
      '127.0.0.1',
      '10.0.0.1',
      '169.254.169.254',
      '::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '64:ff9b::a9fe:a9fe',
    ]) {
      const decision = decideAddresses(service('github'), ['140.82.112.5', bad]);
      assert.equal(decision.allow, false, bad);
      assert.equal(decision.reason, 'address_denied');
      assert.ok(decision.detail!.startsWith(`${bad} is in a denied range`), decision.detail);
    }
  });

  it("opens only the service's own cidrs, naming the cidrs rule", () => {
    const internal = service('internal');
    assert.equal(decideAddresses(internal, ['10.20.3.4']).rule, 'internal#cidrs');
    assert.equal(decideAddresses(internal, ['10.20.3.4']).allow, true);
    assert.equal(decideAddresses(internal, ['fd12::5']).allow, true);
    assert.equal(decideAddresses(internal, ['10.21.0.1']).allow, false);
    assert.equal(decideAddresses(service('github'), ['10.20.3.4']).allow, false);
  });

  it('never opens metadata, even inside a listed cidr', () => {
    const wide = findService(
      compileEgressPolicy([
        { name: 'x', hosts: ['x.example.com'], cidrs: ['169.254.0.0/16', 'fd00:ec2::/32'] },
      ]),
      'x',
    )!;
    assert.equal(decideAddresses(wide, ['169.254.1.1']).allow, true);
    assert.equal(decideAddresses(wide, ['169.254.169.254']).allow, false);
    assert.equal(decideAddresses(wide, ['fd00:ec2::254']).allow, false);
  });

  it('denies an empty answer', () => {
    assert.equal(decideAddresses(service('github'), []).reason, 'resolve_failed');
  });
});

describe('decideRequest', () => {
  it('needs both access and a rule when both are set', () => {
    const github = service('github');
    assert.deepEqual(
      { ...decideRequest(github, 'GET', '/repos/a/b/pulls') },
      { allow: true, stage: 'request', reason: 'rule_matched', service: 'github', rule: 'github#rules[0]' },
    );
    const post = decideRequest(github, 'POST', '/repos/a/b/pulls');
    assert.equal(post.reason, 'method_not_allowed');
    assert.match(
      post.missingRule!,
      /set services\[github\]\.access to read-write and add \{ methods: \[POST\], paths: \["\/repos\/a\/b\/pulls"\] \}/,
    );
    const path = decideRequest(github, 'GET', '/user');
    assert.equal(path.reason, 'path_not_allowed');
    assert.equal(path.missingRule, 'add { methods: [GET], paths: ["/user"] } to services[github].rules');
  });

  it('access alone admits its method class on any path', () => {
    const rw = service('exact-over-wild');
    assert.equal(decideRequest(rw, 'DELETE', '/anything').rule, 'exact-over-wild#access:read-write');
    assert.equal(decideRequest(rw, 'TRACE', '/').reason, 'method_not_allowed');
    assert.match(decideRequest(rw, 'TRACE', '/').missingRule!, /access to full/);
  });

  it('a credential without access or rules means access full, CONNECT excepted', () => {
    const token = service('token-only');
    assert.equal(token.access, 'full');
    assert.equal(decideRequest(token, 'PROPFIND', '/x').allow, true);
    assert.equal(decideRequest(token, 'CONNECT', '/x').allow, false);
  });

  it('rules alone: method and path must match the same rule; methods are case-sensitive', () => {
    const npm = service('rules-only');
    assert.equal(decideRequest(npm, 'GET', '/left-pad').allow, true);
    assert.equal(decideRequest(npm, 'GET', '/@types/node').allow, true);
    assert.equal(decideRequest(npm, 'GET', '/@types/node/extra').reason, 'path_not_allowed');
    assert.equal(decideRequest(npm, 'PUT', '/left-pad').reason, 'method_not_allowed');
    assert.equal(decideRequest(npm, 'get', '/left-pad').reason, 'method_not_allowed');
  });

  it('refuses ambiguous paths before matching', () => {
    const github = service('github');
    for (const path of [
      '/repos/../admin',
      '/repos/%2e%2e/admin',
      '/repos/a%2F..%2F..%2Fadmin',
      '/repos//x',
    ]) {
      assert.equal(decideRequest(github, 'GET', path).reason, 'path_ambiguous', path);
    }
  });
});

describe('compileEgressPolicy', () => {
  it('compiles an empty list to deny-everything', () => {
    const empty = compileEgressPolicy([]);
    assert.equal(decideConnect(empty, 'api.github.com', 443).allow, false);
  });

  it('lists every problem with its field', () => {
    try {
      compileEgressPolicy([
        { name: 'a', hosts: ['Bad_Host', '*.*.example.com', 'localhost'], ports: [0] },
        { name: 'a', hosts: ['ok.example.com'], cidrs: ['0.0.0.0/0', '10.0.0.0/33', 'x/8', '::/0'] },
        {
          name: 'b',
          hosts: ['b.example.com'],
          credentialHeader: 'Host',
          credential: 'k',
          rules: [{ methods: ['get'], paths: ['x'] }],
        },
        { name: 'c', hosts: ['c.example.com'], credentialHeader: 'x-api-key' },
      ]);
      assert.fail('expected PDK_EGRESS_POLICY_INVALID');
    } catch (error) {
      assert.ok(isPaddockError(error, 'PDK_EGRESS_POLICY_INVALID'));
      const problems = error.details as string[];
      const expected = [
        'services[a].hosts: "Bad_Host"',
        'services[a].hosts: "*.*.example.com"',
        'services[a].hosts: "localhost"',
        'services[a].ports: 0 is not a TCP port',
        'services[a].name: duplicate service name',
        'services[a].cidrs: "0.0.0.0/0" is wider than /8',
        'services[a].cidrs: "10.0.0.0/33" has a prefix longer than the address',
        'services[a].cidrs: "x/8" does not start with an IP address',
        'services[a].cidrs: "::/0" is wider than /32',
        'services[b].rules[0].methods: "get" is not an upper-case method',
        'services[b].rules[0].paths: path glob "x" must start with "/"',
        'services[b].credentialHeader: "Host" cannot carry a credential',
        'services[c].credentialHeader: is set without a credential',
      ];
      for (const start of expected)
        assert.ok(
          problems.some((p) => p.startsWith(start)),
          `missing: ${start}\n${problems.join('\n')}`,
        );
      assert.match(error.message, /^egress policy is invalid: /);
    }
  });

  it('defaults ports to 443 and the credential header to authorization', () => {
    const token = findService(policy, 'token-only')!;
    assert.deepEqual([...token.ports], [443]);
    assert.equal(token.credentialHeader, 'authorization');
  });
});
