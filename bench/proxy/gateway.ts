// The Paddock egress gateway for the benchmark, in its own process (as squid and tinyproxy
// are). argv: upstream ports as JSON, the upstream CA file, and where to write the
// workspace CA. Prints its listener ports as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { createLogger } from '../../src/core/index.ts';
import { compileEgressPolicy } from '../../src/policy/index.ts';
import {
  createEgressGateway,
  createEphemeralWorkspaceCa,
  staticResolver,
} from '../../src/supervisor/egress/index.ts';

const upstream = JSON.parse(process.argv[2]!) as { bulk: number; http: number; https: number };
const ca = createEphemeralWorkspaceCa({ commonName: 'bench-workspace' });
writeFileSync(process.argv[4]!, ca.certPem);
let events = 0;
const gateway = createEgressGateway({
  policy: compileEgressPolicy([
    // L4: the IP literal itself (as the squid and tinyproxy runs use it), not inspected.
    {
      name: 'l4',
      hosts: ['127.0.0.1'],
      ports: [upstream.bulk, upstream.http, upstream.https],
      cidrs: ['127.0.0.1/32'],
    },
    // L4 over TLS by name: relayed, the ClientHello's SNI checked against the CONNECT target.
    { name: 'l4-tls', hosts: ['l4.bench.test'], ports: [upstream.https], cidrs: ['127.0.0.1/32'] },
    // L7: a name, inspected (every request matched), over plain HTTP and over TLS.
    {
      name: 'l7',
      hosts: ['l7.bench.test'],
      ports: [upstream.http, upstream.https],
      access: 'read-only',
      rules: [{ methods: ['GET'], paths: ['/**'] }],
      cidrs: ['127.0.0.1/32'],
    },
  ]),
  ca,
  // Events are built as in production; the sink only counts them.
  onEvent: () => {
    events += 1;
  },
  context: () => ({ workspaceId: 'bench', sessionId: 'bench', bundle: { id: 'bench', version: '1' } }),
  resolver: staticResolver({ 'l7.bench.test': ['127.0.0.1'], 'l4.bench.test': ['127.0.0.1'] }),
  upstreamTls: { ca: readFileSync(process.argv[3]!, 'utf8') },
  logger: createLogger('egress', { level: 'warn' }),
  limits: { maxConnections: 4096 },
});
const ports = await gateway.bind('127.0.0.1', {
  httpProxy: 0,
  transparentHttp: 0,
  transparentHttps: 0,
  socks: 0,
});
process.stdout.write(`${JSON.stringify(ports)}\n`);
process.on('SIGTERM', () => {
  process.stderr.write(`gateway: ${events} events\n`);
  process.exit(0);
});
