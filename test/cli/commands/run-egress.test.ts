// `paddock run` wires the egress gateway: the real bin, a real sandbox, a loopback upstream the
// blueprint allows (an IP-literal host with a `cidrs` grant), a host it does not, the
// --secrets store, and the --audit chain.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyChain } from '../../../src/audit/index.ts';
import { writeEncryptedFileSecretStore } from '../../../src/supervisor/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { startUpstream, type Upstream } from '../../supervisor/egress-fixtures.ts';

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const CANARY = 'pdk-canary-cli-egress-0a1b2c3d4e5f60718293a4b5c6d7e8f9';

const blueprint = (port: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: egress-cli, version: 3.1.4, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: CLI egress wiring.
  services:
    - name: local
      hosts: ["127.0.0.1"]
      ports: [${port}]
      access: read-only
      credential: local-token
      cidrs: [127.0.0.0/8]
  dataScope: { read: [/workspace], write: [/workspace], deny: [] }
`;

function paddock(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PADDOCK, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('paddock run: the egress gateway', () => {
  const config = makeWorkspace('pdk-run-egress-cfg-');
  const workspace = makeWorkspace('pdk-run-egress-ws-');
  let upstream: Upstream;
  let result: { code: number | null; stdout: string; stderr: string };
  const auditFile = join(config.dir, 'audit.log');

  before(async () => {
    upstream = await startUpstream();
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'egress-cli.yaml'), blueprint(upstream.port));
    const secrets = join(config.dir, 'secrets.json');
    writeFileSync(`${secrets}.key`, randomBytes(32), { mode: 0o600 });
    await writeEncryptedFileSecretStore({
      file: secrets,
      keyFile: `${secrets}.key`,
      secrets: { 'local-token': CANARY },
    });
    // NO_PROXY names 127.0.0.1 (the sandbox's own loopback); --noproxy '' sends it to the gateway.
    const script = [
      `echo "=== allowed"; curl -sS --max-time 20 --noproxy '' -H "Authorization: Bearer $PADDOCK_CREDENTIAL_LOCAL_TOKEN" http://127.0.0.1:${upstream.port}/quiet/cli; echo`,
      'echo "=== denied"; curl -sS --max-time 20 http://denied.example.test/; echo',
      'echo "=== ca"; grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"',
    ].join('\n');
    result = await paddock(
      [
        'run',
        '-b',
        'egress-cli',
        '-w',
        workspace.dir,
        '--audit',
        auditFile,
        '--secrets',
        secrets,
        '--',
        'sh',
        '-c',
        script,
      ],
      config.dir,
    );
  });

  after(async () => {
    await upstream?.close();
    config.remove();
    workspace.remove();
  });

  const section = (name: string) => result.stdout.split(`=== ${name}\n`)[1]?.split('=== ')[0] ?? '';

  it('reaches the allowed service, the gateway injecting the secret for the placeholder', () => {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(section('allowed').trim(), 'ok', result.stdout + result.stderr);
    const seen = upstream.requests.find((request) => request.url === '/quiet/cli');
    assert.equal(seen?.headers['authorization'], `Bearer ${CANARY}`);
    assert.ok(!result.stdout.includes(CANARY));
  });

  it('refuses a host outside the blueprint with the 403 JSON body', () => {
    const body = JSON.parse(section('denied')) as { error?: string; reason?: string };
    assert.equal(body.error, 'PDK_EGRESS_DENIED');
    assert.equal(body.reason, 'no_matching_service');
  });

  it('mounts a CA bundle of the system CAs plus the run CA', () => {
    assert.ok(Number(section('ca').trim()) > 1, section('ca'));
  });

  it('refuses a secret store inside --workdir, where the agent could read its key', async () => {
    const inside = join(workspace.dir, 'secrets.json');
    writeFileSync(inside, '{}');
    const refused = await paddock(
      ['run', '-b', 'egress-cli', '-w', workspace.dir, '--secrets', inside, '--', 'true'],
      config.dir,
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /PDK_SECRET_STORE_EXPOSED/);
    assert.match(
      refused.stderr,
      /secrets\.json is inside --workdir .*keep the secret store and its key outside/,
    );
  });

  it('appends gateway events with the bundle to the verified --audit chain', async () => {
    const report = await verifyChain(auditFile);
    assert.equal(report.ok, true, JSON.stringify(report));
    const lines = readFileSync(auditFile, 'utf8').trim().split('\n');
    const http = lines.filter((line) => line.includes('"class_uid":4002'));
    assert.ok(http.length > 0, 'an HTTP Activity event');
    for (const line of http) {
      const policy = (JSON.parse(line) as { event: { policy: { uid: string; version: string } } }).event
        .policy;
      assert.match(policy.uid, /^egress-cli/, line);
      assert.ok(policy.version, line);
    }
    assert.ok(!lines.some((line) => line.includes(CANARY)), 'no event holds the secret');
  });
});
