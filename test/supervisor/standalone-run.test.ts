// `paddock run`'s supervisor (runStandalone) end to end: a REAL sandbox whose only way out is
// the egress gateway compiled from the blueprint, and whose PDP socket answers from the
// blueprint's compiled bundle. Upstreams are loopback test servers; names resolve statically.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { loadRepository, resolveBlueprint } from '../../src/config/index.ts';
import { runStandalone, staticResolver } from '../../src/supervisor/index.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { makeSecretStore, startUpstream, UPSTREAM_CA, type Upstream } from './egress-fixtures.ts';
import { sections } from './egress-sandbox-support.ts';

const CANARY = 'pdk-canary-standalone-7e6d5c4b3a291807f6e5d4c3b2a1';

const blueprintYaml = (port: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: standalone-e2e, version: 2.4.6, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Standalone wiring test.
  tools:
    commands:
      allow: ["git *", "node *"]
      deny: ["git push *"]
  services:
    - name: api
      hosts: [api.example.test]
      ports: [${port}]
      access: read-only
      credential: gh-token
      cidrs: [127.0.0.0/8]
  dataScope: { read: [/workspace, ${dirname(dirname(process.execPath))}], write: [/workspace], deny: [] }
`;

// Runs inside the sandbox: one exec decision from the PDP socket, printed as JSON.
const PDP_CLIENT = `
const net = require('node:net');
const argv = JSON.parse(process.argv[2]);
const socket = net.connect('/run/paddock/pdp.sock', () => {
  socket.write(JSON.stringify({ id: 7, action: 'exec', argv }) + '\\n');
});
let buffered = '';
socket.on('data', (chunk) => {
  buffered += chunk;
  if (buffered.includes('\\n')) { process.stdout.write(buffered); socket.end(); }
});
socket.on('error', (error) => { console.log('PDP ERROR ' + error.message); process.exitCode = 1; });
`;

describe('paddock run: egress gateway and PDP socket in a real sandbox', () => {
  let upstream: Upstream;
  let secrets: Awaited<ReturnType<typeof makeSecretStore>>;
  const config = makeWorkspace('pdk-standalone-cfg-');
  const workspace = makeWorkspace('pdk-standalone-ws-');
  const events: OcsfEvent[] = [];
  let output = '';
  let exitCode = -1;
  let bundle: { id: string; version: string };

  before(async () => {
    upstream = await startUpstream({ tls: true });
    secrets = await makeSecretStore({ 'gh-token': CANARY });
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'e2e.yaml'), blueprintYaml(upstream.port));
    writeFileSync(join(workspace.dir, 'pdp-client.js'), PDP_CLIENT);
    const loaded = await loadRepository(config.dir);
    const resolved = resolveBlueprint(loaded.state, 'standalone-e2e');
    const script = [
      'echo "=== env"; env | grep -E "^(PADDOCK_CREDENTIAL_|SSL_CERT_FILE|NODE_EXTRA_CA_CERTS)" | sort',
      'echo "=== allowed"; curl -sS --max-time 20 -H "Authorization: Bearer $PADDOCK_CREDENTIAL_GH_TOKEN" https://api.example.test:' +
        upstream.port +
        '/quiet/repos/acme/widgets; echo',
      'echo "=== denied"; curl -sS --max-time 20 http://denied.example.test/; echo',
      'echo "=== exec-allow"; node pdp-client.js \'["git","status"]\'',
      'echo "=== exec-deny"; node pdp-client.js \'["git","push","origin","main"]\'',
    ].join('\n');
    const result = await runStandalone({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: resolved.blueprint.spec.dataScope!,
      resolved,
      policies: loaded.state.policies,
      secrets: secrets.store,
      resolver: staticResolver({ 'api.example.test': ['127.0.0.1'], 'denied.example.test': ['127.0.0.1'] }),
      upstreamTls: { ca: UPSTREAM_CA.certPem },
      hostEnv: {},
      stdio: ['ignore', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      },
      audit: async (event) => {
        events.push(event);
      },
    });
    exitCode = result.exitCode;
    bundle = result.bundle;
  });

  after(async () => {
    await upstream?.close();
    secrets?.remove();
    config.remove();
    workspace.remove();
  });

  it('runs the command to completion', () => {
    assert.equal(exitCode, 0, output);
  });

  it('sets credential placeholders and the CA variables, never the secret', () => {
    const env = sections(output)['env'] ?? '';
    assert.match(env, /^PADDOCK_CREDENTIAL_GH_TOKEN=pdk_ph_/m, output);
    assert.match(env, /^SSL_CERT_FILE=\/etc\/paddock\/ca\.pem$/m);
    assert.match(env, /^NODE_EXTRA_CA_CERTS=\/etc\/paddock\/ca\.pem$/m);
    assert.ok(!output.includes(CANARY), 'the raw secret never reaches the sandbox');
  });

  it('reaches an allowed service through the gateway (TLS inspected, credential injected)', () => {
    // The upstream's answer; it must not echo the secret (the gateway cuts such a response).
    assert.equal(sections(output)['allowed']?.trim(), 'ok', output);
    const seen = upstream.requests.find((request) => request.url === '/quiet/repos/acme/widgets');
    assert.equal(seen?.method, 'GET');
    assert.equal(seen?.headers['authorization'], `Bearer ${CANARY}`);
  });

  it('answers a host outside the blueprint with the 403 JSON refusal', () => {
    const body = JSON.parse(sections(output)['denied'] ?? '{}') as { error?: string; host?: string };
    assert.equal(body.error, 'PDK_EGRESS_DENIED', output);
    assert.equal(upstream.requests.filter((request) => request.url === '/').length, 0);
  });

  it("answers exec decisions on the PDP socket with the blueprint's commands", () => {
    const allow = JSON.parse(sections(output)['exec-allow'] ?? '{}') as Record<string, unknown>;
    const deny = JSON.parse(sections(output)['exec-deny'] ?? '{}') as Record<string, unknown>;
    assert.equal(allow['id'], 7, output);
    assert.equal(allow['decision'], 'allow');
    assert.equal(deny['decision'], 'deny');
    assert.deepEqual(allow['bundle'], bundle);
  });

  it('records gateway and PDP decisions with the bundle id and version', () => {
    const carrying = events.filter((event) => JSON.stringify(event).includes(bundle.id));
    const classes = new Set(carrying.map((event) => event['class_uid']));
    assert.ok(classes.has(4002), `an HTTP Activity event carries the bundle: ${[...classes]}`);
    assert.ok(classes.has(4001), 'a Network Activity event carries the bundle');
    assert.ok(classes.has(1007), 'a Process Activity (exec decision) event carries the bundle');
    for (const event of carrying) {
      const text = JSON.stringify(event);
      assert.ok(text.includes(`"version":"${bundle.version}"`), text);
    }
    assert.ok(!JSON.stringify(events).includes(CANARY), 'no event holds the secret');
  });
});
