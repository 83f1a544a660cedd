import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OcsfEvent } from '../../audit/index.ts';
import type { HostEgressConfig, WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger, newId } from '../../core/index.ts';
import { loadRepository, resolveBlueprint } from '../../config/index.ts';
import type { ReviewGate } from '../../policy/index.ts';
import {
  type EgressPorts,
  loadOrCreateWorkspaceCa,
  type Resolver,
  type SecretStore,
  type UpstreamTlsOptions,
} from '../egress/index.ts';
import type { PolicyHolder } from '../policy/index.ts';
import { createBlueprintGateway, policyInForce } from '../standalone/blueprint-egress.ts';
import { caBundlePem } from '../standalone/ca-bundle.ts';
import { replaceFile } from './host-ssh.ts';

// The workspace's egress gateway on the host's loopback (`config.hostEgress`: Windows guests,
// whose terminals run on the host's own OpenSSH server as one account, with no sandbox). A
// firewall rule blocks that account's every outbound connection; loopback is exempt, so the
// explicit proxy and SOCKS5 listeners here are its only way out, for proxy-aware clients (no
// transparent interception). The gateway is the one `paddock run` and every Linux terminal
// have (standalone/blueprint-egress.ts): the blueprint's services, or the applied release's,
// default deny, address checks after resolution, L7 rules with the workspace CA, review-gated
// writes held in the control plane's queue, every event through the supervisor's audit.

const log = createLogger('workspace-supervisor');

/** The gateway's address: the agent's account reaches it on loopback only. */
export const HOST_EGRESS_ADDRESS = '127.0.0.1';
/** The persistent workspace CA, in the supervisor's state directory (0700; the key 0600). */
const CA_DIR = 'egress-ca';
/** The CA's certificate alone, as loadOrCreateWorkspaceCa writes it (what the Root store gets). */
const CA_CERT = 'ca.pem';

/** Adds a CA certificate file to the host's trust store. Rejects with the reason. */
export type TrustStoreInstaller = (certFile: string) => Promise<void>;

/** `certutil.exe -addstore -f Root FILE`: schannel-based clients (curl.exe, PowerShell, .NET) read the store, not SSL_CERT_FILE. */
export function windowsRootStore(certutil = 'certutil.exe'): TrustStoreInstaller {
  return (certFile) =>
    new Promise((resolve, reject) => {
      execFile(certutil, ['-addstore', '-f', 'Root', certFile], { timeout: 60_000 }, (error, stdout) => {
        if (error) reject(new Error(`${error.message.trim()} ${String(stdout).trim().slice(-400)}`.trim()));
        else resolve();
      });
    });
}

/** The host's trust store, chosen once: Windows' machine Root store; elsewhere none (the bundle alone). */
function defaultTrustStore(): TrustStoreInstaller | undefined {
  switch (process.platform) {
    case 'win32':
      return windowsRootStore();
    default:
      return undefined;
  }
}

export interface HostEgressOptions {
  /** The supervisor's audit (redacting, into the spool): every gateway event goes there. */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  /** Where review-gated writes are held (the control plane's queue over the channel). Without it they are refused. */
  readonly reviews?: ReviewGate;
  /** The released policy in force (config.releases): the gateway follows every applied release. */
  readonly holder?: PolicyHolder;
  /**
   * The user a held write is requested by, read at each hold: every terminal is one shared
   * account, so only a single user with a terminal open can be named. `undefined` (none, or
   * several) refuses the write rather than let one of them approve another's request.
   */
  readonly requester: () => string | undefined;
  /** The workspace's secret store (config.secrets): the gateway injects the services' credentials from it. */
  readonly secrets?: SecretStore;
  /** Name resolution at the gateway. Default the system resolver (tests, split-horizon DNS). */
  readonly resolver?: Resolver;
  /** Trust anchors for re-originated TLS. Default Node's CA store. */
  readonly upstreamTls?: UpstreamTlsOptions;
  /** Where the CA is added for schannel clients. Default: the machine Root store on Windows, none elsewhere. */
  readonly trustStore?: TrustStoreInstaller;
}

export interface HostEgress {
  /** The bound listeners (the explicit proxy and SOCKS5 on the configured ports; the transparent ones ephemeral). */
  readonly ports: EgressPorts;
  /** The bundle written to `hostEgress.caCertFile`: public roots, then the workspace CA. */
  readonly caCertFile: string;
  /** The workspace CA's certificate alone (in the supervisor's private directory). */
  readonly caCertPem: string;
  /** Stops following releases, closes every listener and connection, and waits for the last events. */
  close(): Promise<void>;
}

/**
 * Starts the gateway on 127.0.0.1: the persistent workspace CA (made once in the supervisor's
 * state directory), the bundle at `caCertFile` (replaced atomically, readable by all), the
 * explicit proxy on `proxyPort` and SOCKS5 on `socksPort`, and on Windows the CA in the machine
 * Root store (a failure there is logged: clients reading the bundle still work).
 * PDK_EGRESS_HOST_GATEWAY when a port is taken or the bundle cannot be written; PDK_EGRESS_CA,
 * PDK_BLUEPRINT_NOT_FOUND, PDK_CONFIG_INVALID as their loaders throw them.
 * @example
 * const egress = await startHostEgress(config, config.hostEgress, { audit, requester: () => 'alice' });
 */
export async function startHostEgress(
  config: WorkspaceSupervisorConfig,
  hostEgress: HostEgressConfig,
  options: HostEgressOptions,
): Promise<HostEgress> {
  const loaded = await loadRepository(config.configDir);
  const resolved = resolveBlueprint(loaded.state, config.blueprint);
  const { workspaceId } = config;
  const sessionId = newId();
  const caDir = join(dirname(config.auditLog), CA_DIR);
  // The CA names itself `Paddock workspace CA (<workspace id>)` (ca.ts prefixes the first part).
  const ca = loadOrCreateWorkspaceCa(caDir, { commonName: `(${workspaceId})` });
  writeCaBundle(hostEgress.caCertFile, ca.certPem);

  // Gateway events arrive synchronously on its hot paths; the spool is async.
  const pending = new Set<Promise<unknown>>();
  const record = (event: OcsfEvent) => {
    const appended = options
      .audit(event)
      .catch((error: Error) => log.error({ error: error.message }, 'audit append failed'))
      .finally(() => pending.delete(appended));
    pending.add(appended);
  };
  // Decisions name the account, the one principal every terminal here runs as.
  const account = config.hostSsh?.account ?? 'host';
  const policy = policyInForce({
    resolved,
    policies: loaded.state.policies,
    ...(options.holder ? { appliedPolicy: options.holder } : {}),
    principal: { session: sessionId, user: account, groups: [] },
  });
  const { gateway, stopFollowing } = createBlueprintGateway({
    resolved,
    policy,
    ...(options.holder ? { appliedPolicy: options.holder } : {}),
    ca,
    onEvent: record,
    workspaceId,
    sessionId,
    requester: () => {
      const user = options.requester();
      if (!user)
        throw new Error(
          `no single user has a terminal on the shared account ${account}: the write cannot name its requester`,
        );
      return user;
    },
    ...(options.reviews ? { reviewGate: options.reviews } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.upstreamTls ? { upstreamTls: options.upstreamTls } : {}),
  });
  const close = async () => {
    stopFollowing();
    await gateway.close().catch(() => {});
    await Promise.all(pending);
  };
  let ports: EgressPorts;
  try {
    // The transparent listeners have no redirect pointing at them here: ephemeral, loopback only.
    ports = await gateway.bind(HOST_EGRESS_ADDRESS, {
      httpProxy: hostEgress.proxyPort,
      socks: hostEgress.socksPort,
      transparentHttp: 0,
      transparentHttps: 0,
    });
  } catch (error) {
    await close();
    throw new PaddockError(
      'PDK_EGRESS_HOST_GATEWAY',
      `the egress gateway cannot listen on ${HOST_EGRESS_ADDRESS} ports ${hostEgress.proxyPort} (proxy) and ${hostEgress.socksPort} (SOCKS5): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; stop what holds them, or set hostEgress.proxyPort and socksPort to free ports`,
      { cause: error },
    );
  }
  const trustStore = options.trustStore ?? defaultTrustStore();
  if (trustStore)
    await trustStore(join(caDir, CA_CERT)).catch((error: Error) =>
      log.error(
        { error: error.message },
        "the workspace CA is not in the host's trust store: clients that read only the store fail on inspected sites",
      ),
    );
  log.info(
    { proxyPort: ports.httpProxy, socksPort: ports.socks, caCertFile: hostEgress.caCertFile },
    'egress gateway listening on loopback',
  );
  return { ports, caCertFile: hostEgress.caCertFile, caCertPem: ca.certPem, close };
}

/** The bundle's current text, or undefined when there is none to read. */
function readBundle(caCertFile: string): string | undefined {
  try {
    return readFileSync(caCertFile, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The bundle, replaced whole (a client never reads half of it), readable by every account. Left
 * alone when it already holds exactly this text: Windows refuses a rename over a file a client
 * has open, and the CA outlives restarts.
 */
function writeCaBundle(caCertFile: string, caCertPem: string): void {
  const bundle = caBundlePem(caCertPem);
  try {
    const dir = dirname(caCertFile);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (readBundle(caCertFile) === bundle) chmodSync(caCertFile, 0o644);
    else replaceFile(caCertFile, bundle, 0o644);
  } catch (error) {
    throw new PaddockError(
      'PDK_EGRESS_HOST_GATEWAY',
      `the supervisor cannot write the CA bundle ${caCertFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): create its directory, writable by the supervisor's account and readable by the agent's`,
      { cause: error },
    );
  }
}
