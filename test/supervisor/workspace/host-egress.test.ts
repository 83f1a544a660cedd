import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import type { HostEgressConfig, WorkspaceSupervisorConfig } from '../../../src/core/channel/index.ts';
import { compileReleaseBundle, POLICY_PROTECTED_PATHS } from '../../../src/policy/index.ts';
import { staticResolver } from '../../../src/supervisor/egress/index.ts';
import { PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { ChannelReviewGate } from '../../../src/supervisor/workspace/channel-review-gate.ts';
import { startHostEgress, windowsRootStore } from '../../../src/supervisor/workspace/host-egress.ts';
import type { WorkspaceTerminal } from '../../../src/supervisor/workspace/pty-terminal.ts';
import { collect } from '../../support/terminal-output.ts';
import {
  openWorkspaceAudit,
  type WorkspaceAudit,
} from '../../../src/supervisor/workspace/workspace-audit.ts';
import {
  type WorkspaceTerminals,
  workspaceTerminals,
} from '../../../src/supervisor/workspace/workspace-terminals.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';
import { until } from '../../support/cluster-releases.ts';
import { freePort, type HostSshd, listening, startHostSshd, strictDir } from '../../support/host-sshd.ts';
import { runClient, startUpstream, UPSTREAM_CA, type Upstream } from '../egress-fixtures.ts';

// The Windows guest's egress path (config.hostSsh + config.hostEgress: no sandbox, every
// terminal on the host's OpenSSH server as one account whose only way out is the workspace's
// egress gateway on loopback), exercised on Linux: Debian's sshd stands in for Windows' OpenSSH
// server, curl is the proxy-aware client, local TLS servers and a static resolver stand in for
// the blueprint's services. Every event goes through the supervisor's own audit (main.ts's:
// redacted into the spool), read back from the spool's files.

const SSH_CLIENT = execFileSync('sh', ['-c', 'command -v ssh']).toString().trim();
const EXAMPLES = new URL('../../../examples/platform/', import.meta.url).pathname;
const WS = 'ws-win-egress';

const blueprintYaml = (api: number, sshd: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: host-egress, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: The Windows guest's egress gateway on loopback.
  services:
    - name: api
      hosts: [api.example.test]
      ports: [${api}]
      access: read-only
      cidrs: [127.0.0.1/32]
    - name: tickets
      hosts: [tickets.example.test]
      ports: [${api}]
      access: read-write
      cidrs: [127.0.0.1/32]
    - name: internal
      hosts: [internal.example.test]
      ports: [${sshd}]
  writes:
    - { service: tickets, methods: [POST], paths: ["/tickets"], review: required }
  reviewGates: { reviewers: ["group:appsec"], minApprovals: 1, timeout: 1h }
`;

/** A desired-state repository holding the test blueprint (the platform file from the examples). */
function writeRepository(dir: string, api: number, sshd: number): void {
  mkdirSync(join(dir, 'blueprints'), { recursive: true });
  copyFileSync(join(EXAMPLES, 'paddock.yaml'), join(dir, 'paddock.yaml'));
  writeFileSync(join(dir, 'blueprints', 'host-egress.yaml'), blueprintYaml(api, sshd));
}

/** Every event the spool in `stateDir` holds, oldest first. */
function spooled(stateDir: string): OcsfEvent[] {
  const spool = join(stateDir, 'audit-spool');
  return readdirSync(spool)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) =>
      readFileSync(join(spool, name), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { event: OcsfEvent }).event),
    );
}

describe("Windows host egress on Linux: the workspace's gateway on loopback for the host account (config.hostEgress)", () => {
  let dir: string;
  let stateDir: string;
  let sshd: HostSshd;
  let upstream: Upstream;
  let config: WorkspaceSupervisorConfig;
  let hostEgress: HostEgressConfig;
  let workspaceAudit: WorkspaceAudit;
  let terminals: WorkspaceTerminals;
  const reviewRequests: { requester: string; resource: string }[] = [];

  before(async () => {
    dir = strictDir('paddock-host-egress-');
    upstream = await startUpstream({ tls: true });
    const authorizedKeysFile = join(dir, 'paddock_authorized_keys');
    sshd = await startHostSshd(dir, [authorizedKeysFile]);
    const repo = join(dir, 'repo');
    writeRepository(repo, upstream.port, sshd.port);
    stateDir = join(dir, 'Paddock Data');
    hostEgress = {
      proxyPort: await freePort(),
      socksPort: await freePort(),
      caCertFile: join(dir, 'public', 'paddock-ca.pem'),
    };
    config = {
      workspaceId: WS,
      channelUrl: 'ws://127.0.0.1:1/channel',
      identityFile: join(dir, 'identity.json'),
      configDir: repo,
      blueprint: 'host-egress',
      profile: 'standard-local',
      workdir: join(dir, 'workdir'),
      homeDir: join(dir, 'home'),
      auditLog: join(stateDir, 'audit.log'),
      providerPid: 0,
      hostSsh: {
        port: sshd.port,
        account: 'root',
        hostKeyFile: sshd.hostKeyFile,
        sshClient: SSH_CLIENT,
        authorizedKeysFile,
      },
      hostEgress,
    };
    workspaceAudit = await openWorkspaceAudit(config);
    // The workspace's real review gate, its channel down: what it would send is recorded, and
    // every held write is then refused (fail closed), as with a disconnected control plane.
    const reviews = new ChannelReviewGate({
      send: (message) => {
        reviewRequests.push({ requester: message.call.requester.id, resource: message.call.resource });
        return false;
      },
      audit: workspaceAudit.audit,
    });
    terminals = await workspaceTerminals(config, {
      audit: workspaceAudit.audit,
      reviews,
      hostEgress: {
        resolver: staticResolver({
          'api.example.test': ['127.0.0.1'],
          'tickets.example.test': ['127.0.0.1'],
          'internal.example.test': ['127.0.0.1'],
          'elsewhere.example.test': ['127.0.0.1'],
        }),
        upstreamTls: { ca: UPSTREAM_CA.certPem },
      },
    });
  });
  after(async () => {
    await terminals?.close();
    await workspaceAudit?.spool.close();
    await upstream?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const proxy = () => `http://127.0.0.1:${hostEgress.proxyPort}`;
  const curl = (args: readonly string[]) =>
    runClient('curl', ['-sS', '--max-time', '15', '-w', '\n%{http_code}', ...args]);
  const apiUrl = (path: string) => `https://api.example.test:${upstream.port}${path}`;

  it('writes caCertFile as a bundle (public roots, then the workspace CA), 0644, without the private key; the key stays in the supervisor state directory (0600 in 0700)', () => {
    const bundle = readFileSync(hostEgress.caCertFile, 'utf8');
    const certs = bundle.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.ok(certs.length > 10, `public roots in the bundle (${certs.length} certificates)`);
    const caPem = readFileSync(join(stateDir, 'egress-ca', 'ca.pem'), 'utf8');
    assert.ok(bundle.trimEnd().endsWith(caPem.trimEnd()), 'the workspace CA is the last certificate');
    assert.doesNotMatch(bundle, /PRIVATE KEY/);
    assert.equal(statSync(hostEgress.caCertFile).mode & 0o777, 0o644);
    assert.equal(statSync(join(stateDir, 'egress-ca')).mode & 0o777, 0o700);
    assert.equal(statSync(join(stateDir, 'egress-ca', 'ca.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(stateDir, 'egress-ca', 'ca.key'), 'utf8'), /PRIVATE KEY/);
    assert.deepEqual(
      readdirSync(join(dir, 'public')),
      ['paddock-ca.pem'],
      'no temporary file left beside the bundle',
    );
  });

  it('the explicit proxy (HTTPS_PROXY) reaches the allowed service; its TLS is inspected with the workspace CA the bundle holds', async () => {
    const before = upstream.requests.length;
    const result = await curl(['-v', '-x', proxy(), '--cacert', hostEgress.caCertFile, apiUrl('/quiet/get')]);
    assert.equal(result.stdout, 'ok\n200', result.stderr);
    assert.match(result.stderr, new RegExp(`issuer: O=Paddock; CN=Paddock workspace CA \\(${WS}\\)`));
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(upstream.requests.at(-1)?.url, '/quiet/get');
    // The system store alone does not trust what the gateway presents: the bundle is what does.
    const untrusted = await curl(['-x', proxy(), apiUrl('/quiet/x')]);
    assert.equal(untrusted.code, 60, untrusted.stderr);
    assert.equal(upstream.requests.length, before + 1, 'the unverified request was not sent');
  });

  it("an L7 rule is enforced inside the inspected connection: a POST to the read-only service gets the gateway's 403 JSON", async () => {
    const before = upstream.requests.length;
    const result = await curl([
      '-x',
      proxy(),
      '--cacert',
      hostEgress.caCertFile,
      '-X',
      'POST',
      '--data',
      'x=1',
      apiUrl('/items'),
    ]);
    const [body, status] = result.stdout.split('\n');
    assert.equal(status, '403', result.stderr);
    const json = JSON.parse(body ?? '') as Record<string, string>;
    assert.equal(json['error'], 'PDK_EGRESS_DENIED');
    assert.equal(json['reason'], 'method_not_allowed');
    assert.equal(json['service'], 'api');
    assert.equal(upstream.requests.length, before, 'nothing reached the upstream');
  });

  it("a host the blueprint does not name is refused with the gateway's 403 JSON, plain HTTP and CONNECT alike", async () => {
    const plain = await curl(['-x', proxy(), `http://elsewhere.example.test:${upstream.port}/`]);
    const [body, status] = plain.stdout.split('\n');
    assert.equal(status, '403', plain.stderr);
    const json = JSON.parse(body ?? '') as Record<string, string>;
    assert.equal(json['error'], 'PDK_EGRESS_DENIED');
    assert.equal(json['reason'], 'no_matching_service');
    const tunnel = await curl([
      '-x',
      proxy(),
      '--cacert',
      hostEgress.caCertFile,
      `https://elsewhere.example.test:${upstream.port}/`,
    ]);
    assert.notEqual(tunnel.code, 0);
    assert.match(tunnel.stderr, /CONNECT.*403|403.*CONNECT|CONNECT tunnel failed, response 403/);
  });

  it("SSRF: the host's own sshd on loopback is unreachable through the proxy, by address or by a name that resolves to it", async () => {
    const connections = () => (sshd.log().match(/Connection from 127\.0\.0\.1/g) ?? []).length;
    const before = connections();
    const literal = await curl(['-x', proxy(), `http://127.0.0.1:${sshd.port}/`]);
    assert.equal(literal.stdout.split('\n').at(-1), '403', literal.stderr);
    assert.equal(
      (JSON.parse(literal.stdout.split('\n')[0] ?? '') as { error: string }).error,
      'PDK_EGRESS_DENIED',
    );
    const tunnel = await curl(['-p', '-x', proxy(), `telnet://127.0.0.1:${sshd.port}`]);
    assert.notEqual(tunnel.code, 0, 'CONNECT 127.0.0.1:22 refused');
    // A blueprint service whose name resolves to loopback, without cidrs naming it: refused after resolution.
    const named = await curl(['-x', proxy(), `http://internal.example.test:${sshd.port}/`]);
    const [body, status] = named.stdout.split('\n');
    assert.equal(status, '403', named.stderr);
    const refusal = JSON.parse(body ?? '') as { reason: string; service: string };
    assert.deepEqual([refusal.reason, refusal.service], ['address_denied', 'internal']);
    assert.equal(connections(), before, 'sshd saw no connection from the gateway');
  });

  it('SOCKS5 (ALL_PROXY=socks5h://) follows the same policy: the allowed service inspected, another host refused', async () => {
    const socks = `socks5h://127.0.0.1:${hostEgress.socksPort}`;
    const allowed = await curl(['-x', socks, '--cacert', hostEgress.caCertFile, apiUrl('/quiet/socks')]);
    assert.equal(allowed.stdout, 'ok\n200', allowed.stderr);
    const denied = await curl(['-x', socks, `http://elsewhere.example.test:${upstream.port}/`]);
    assert.notEqual(denied.code, 0, 'the SOCKS request is refused');
  });

  it("inside a host shell terminal the account's curl, with the environment a Windows guest sets, goes through the gateway; a review-gated write names the one user with a terminal", async () => {
    const request = { cols: 200, rows: 24, mode: 'shell' as const, attachId: 'at-1' };
    const shell = await terminals.open({ ...request, userId: 'alice@example.com' });
    const output = collect(shell, 20_000);
    let second: WorkspaceTerminal | undefined;
    try {
      const env = `HTTPS_PROXY=${proxy()} HTTP_PROXY=${proxy()} NO_PROXY=localhost,127.0.0.1 SSL_CERT_FILE=${hostEgress.caCertFile} CURL_CA_BUNDLE=${hostEgress.caCertFile}`;
      shell.write(
        Buffer.from(
          `export ${env}; curl -sS -o /dev/null -w "get=%{http_code}\\n" ${apiUrl('/quiet/from-shell')}\n`,
        ),
      );
      await output.until(/get=200/);
      shell.write(
        Buffer.from(
          `curl -sS -w "\\npost=%{http_code}\\n" -X POST --data t=1 https://tickets.example.test:${upstream.port}/tickets\n`,
        ),
      );
      const held = await output.until(/"reason":"(\w+)"[^\n]*\n?post=403/);
      assert.equal(held[1], 'review_unavailable', 'the channel is down: refused, never sent');
      assert.deepEqual(reviewRequests.at(-1), {
        requester: 'alice@example.com',
        resource: `POST https://tickets.example.test:${upstream.port}/tickets`,
      });

      // A second user on the same account: the write cannot name its requester, so it is refused
      // before reaching the queue (neither may approve the other's request as their own).
      second = await terminals.open({ ...request, userId: 'bob@example.com', attachId: 'at-2' });
      const sent = reviewRequests.length;
      shell.write(
        Buffer.from(
          `curl -sS -w "\\npost2=%{http_code}\\n" -X POST --data t=2 https://tickets.example.test:${upstream.port}/tickets\n`,
        ),
      );
      const refused = await output.until(/"reason":"(\w+)"[^\n]*\n?post2=403/);
      assert.equal(refused[1], 'review_unavailable');
      assert.equal(reviewRequests.length, sent, 'nothing sent for review');
      shell.write(Buffer.from('exit 0\n'));
      assert.equal((await output.exit).exitCode, 0);
    } finally {
      second?.close();
      shell.close();
    }
  });

  it("Network Activity events for allowed and denied connections land in the supervisor's spool, valid OCSF, naming the workspace and the blueprint's bundle", async () => {
    await until('a denial in the spool', () =>
      spooled(stateDir).some((event) => event.metadata.event_code === 'egress.denied'),
    );
    const events = spooled(stateDir).filter((event) => event.class_uid === 4001);
    const codes = new Set(events.map((event) => event.metadata.event_code));
    assert.ok(codes.has('egress.allowed'), [...codes].join(','));
    assert.ok(codes.has('egress.denied'), [...codes].join(','));
    // The bundle compiled from the blueprint (no release channel here) decides and is named.
    const decided = events.filter((event) => event.metadata.event_code !== 'egress.closed');
    const bundles = new Set(decided.map((event) => (event['policy'] as { uid: string }).uid));
    assert.equal(bundles.size, 1);
    assert.match([...bundles][0] ?? '', /^host-egress:/);
    for (const event of events) {
      assertValidOcsf(event);
      assert.equal((event['device'] as { uid: string }).uid, WS);
    }
    const ssrf = events.find(
      (event) =>
        event.metadata.event_code === 'egress.denied' &&
        (event['dst_endpoint'] as { hostname?: string }).hostname === 'internal.example.test',
    );
    assert.equal(ssrf?.['status_code'], 'address_denied');
    const denied = events.find(
      (event) =>
        event.metadata.event_code === 'egress.denied' &&
        (event['dst_endpoint'] as { hostname?: string }).hostname === 'elsewhere.example.test',
    );
    assert.ok(denied, 'the denied host is named');
    const allowed = events.find(
      (event) =>
        event.metadata.event_code === 'egress.allowed' &&
        (event['dst_endpoint'] as { svc_name?: string }).svc_name === 'api',
    );
    assert.ok(allowed, 'the allowed service is named');
    // HTTP Activity for the inspected requests, the refused POST among them.
    const http = spooled(stateDir).filter((event) => event.class_uid === 4002);
    assert.ok(http.some((event) => event.metadata.event_code === 'http.denied'));
  });

  it('closing stops the gateway: nothing listens on the proxy or SOCKS port', async () => {
    assert.equal(await listening(hostEgress.proxyPort), true);
    await terminals.close();
    assert.equal(await listening(hostEgress.proxyPort), false);
    assert.equal(await listening(hostEgress.socksPort), false);
  });
});

describe('Windows host egress on Linux: the CA persists, the bundle is replaced whole, failures are loud', () => {
  let dir: string;
  let config: WorkspaceSupervisorConfig;
  let hostEgress: HostEgressConfig;
  const events: OcsfEvent[] = [];
  const options = {
    audit: async (event: OcsfEvent) => void events.push(event),
    requester: () => undefined,
  };

  before(async () => {
    dir = strictDir('paddock-host-egress-ca-');
    writeRepository(join(dir, 'repo'), 443, 22);
    hostEgress = {
      proxyPort: await freePort(),
      socksPort: await freePort(),
      caCertFile: join(dir, 'public', 'paddock-ca.pem'),
    };
    config = {
      workspaceId: WS,
      channelUrl: 'ws://127.0.0.1:1/channel',
      identityFile: join(dir, 'identity.json'),
      configDir: join(dir, 'repo'),
      blueprint: 'host-egress',
      profile: 'standard-local',
      workdir: join(dir, 'workdir'),
      homeDir: join(dir, 'home'),
      auditLog: join(dir, 'state', 'audit.log'),
      providerPid: 0,
      hostEgress,
    };
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a second start keeps the same CA and replaces the bundle by rename (a reader holding the old file keeps it whole)', async () => {
    mkdirSync(join(dir, 'public'), { recursive: true });
    writeFileSync(hostEgress.caCertFile, 'OLD BUNDLE\n');
    const oldLink = join(dir, 'old-bundle-link');
    linkSync(hostEgress.caCertFile, oldLink);
    const first = await startHostEgress(config, hostEgress, options);
    await first.close();
    assert.equal(readFileSync(oldLink, 'utf8'), 'OLD BUNDLE\n', 'the old file was not rewritten in place');
    assert.notEqual(statSync(oldLink).ino, statSync(hostEgress.caCertFile).ino);
    const written = statSync(hostEgress.caCertFile).ino;
    const second = await startHostEgress(config, hostEgress, options);
    await second.close();
    assert.equal(second.caCertPem, first.caCertPem, 'the same workspace CA');
    assert.equal(statSync(hostEgress.caCertFile).ino, written, 'an identical bundle is left in place');
    assert.ok(readFileSync(hostEgress.caCertFile, 'utf8').endsWith(first.caCertPem.trimEnd() + '\n'));
    assert.deepEqual(readdirSync(join(dir, 'public')), ['paddock-ca.pem']);
  });

  it('with a release channel (holder): deny-all until a release applies, then that release decides and events name it', async () => {
    const upstream = await startUpstream();
    const holder = new PolicyHolder();
    const started = await startHostEgress(config, hostEgress, { ...options, holder });
    const proxy = `http://127.0.0.1:${hostEgress.proxyPort}`;
    const url = `http://127.0.0.1:${upstream.port}/quiet/released`;
    try {
      const before = await runClient('curl', ['-sS', '-x', proxy, url]);
      assert.match(before.stdout, /"error":"PDK_EGRESS_DENIED"/, 'deny-all before any release');
      const release = compileReleaseBundle({
        policy: {
          blueprint: {
            name: 'host-egress',
            version: '2.0.0',
            services: [
              { name: 'local', hosts: ['127.0.0.1'], ports: [upstream.port], cidrs: ['127.0.0.1/32'] },
            ],
          },
          protectedPaths: POLICY_PROTECTED_PATHS,
        },
        filesystem: { read: [], write: [], deny: [] },
        source: { commit: 'a'.repeat(40), files: [] },
      });
      holder.apply(release, { hash: 'b'.repeat(64), release: 1 });
      const after = await runClient('curl', ['-sS', '-x', proxy, url]);
      assert.equal(after.stdout, 'ok', after.stderr);
    } finally {
      await started.close();
      await upstream.close();
    }
    const decided = events.filter(
      (event) =>
        event.metadata.event_code === 'egress.allowed' || event.metadata.event_code === 'egress.denied',
    );
    const named = decided.map((event) => [
      event.metadata.event_code,
      (event['policy'] as { uid: string }).uid,
    ]);
    assert.deepEqual(named.at(-2), ['egress.denied', 'deny-all']);
    assert.equal(named.at(-1)?.[0], 'egress.allowed');
    assert.equal(named.at(-1)?.[1], holder.current.ref.id);
  });

  it('a proxy port already taken: PDK_EGRESS_HOST_GATEWAY naming the ports, and nothing left listening', async () => {
    const squatter: Server = createServer().listen(hostEgress.proxyPort, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      await assert.rejects(
        startHostEgress(config, hostEgress, options),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'PDK_EGRESS_HOST_GATEWAY');
          assert.match(error.message, new RegExp(`ports ${hostEgress.proxyPort} \\(proxy\\).*EADDRINUSE`));
          return true;
        },
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    assert.equal(await listening(hostEgress.socksPort), false, 'the SOCKS listener was closed again');
  });

  it('a caCertFile the supervisor cannot write: PDK_EGRESS_HOST_GATEWAY, the gateway not started', async () => {
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    await assert.rejects(
      startHostEgress(config, { ...hostEgress, caCertFile: join(blocked, 'ca.pem') }, options),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PDK_EGRESS_HOST_GATEWAY');
        assert.match(error.message, /cannot write the CA bundle/);
        return true;
      },
    );
    assert.equal(await listening(hostEgress.proxyPort), false);
  });

  it('the Windows trust store step runs `certutil -addstore -f Root` on the CA alone (a FAKE certutil records it); its failure is logged, not fatal', async () => {
    const fake = join(dir, 'certutil-fake');
    const record = join(dir, 'certutil-args');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\ncat "$4" >> '${record}'\n`, {
      mode: 0o755,
    });
    const started = await startHostEgress(config, hostEgress, {
      ...options,
      trustStore: windowsRootStore(fake),
    });
    await started.close();
    const recorded = readFileSync(record, 'utf8');
    const [a, b, c, file] = recorded.split('\n');
    assert.deepEqual([a, b, c], ['-addstore', '-f', 'Root']);
    assert.equal(file, join(dir, 'state', 'egress-ca', 'ca.pem'));
    assert.equal(
      (recorded.match(/BEGIN CERTIFICATE/g) ?? []).length,
      1,
      'the CA alone, not the public roots',
    );
    assert.doesNotMatch(recorded, /PRIVATE KEY/);

    const failing = join(dir, 'certutil-failing');
    writeFileSync(
      failing,
      '#!/bin/sh\necho "CertUtil: -addstore command FAILED: 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)"\nexit 5\n',
      {
        mode: 0o755,
      },
    );
    const stillUp = await startHostEgress(config, hostEgress, {
      ...options,
      trustStore: windowsRootStore(failing),
    });
    try {
      assert.equal(await listening(hostEgress.proxyPort), true, 'the gateway runs without the store');
    } finally {
      await stillUp.close();
    }
    assert.ok(existsSync(hostEgress.caCertFile));
  });
});
