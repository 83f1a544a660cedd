import { CREDENTIAL_ENV_PREFIX } from '../egress/credentials.ts';
import { SANDBOX_PATHS, SANDBOX_USER } from './sandbox-types.ts';

// The agent's environment is built, not inherited: host variables hold tokens (GITHUB_TOKEN,
// AWS_*), sockets (SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS) and paths into the host. Only the
// presentation variables below pass through from the caller; everything else is fixed here or
// comes from the supervisor (proxy and CA variables).

/** Host variables copied into the sandbox when set: terminal and locale presentation only. */
export const PASSED_THROUGH = [
  'TERM',
  'COLORTERM',
  'LANG',
  'LANGUAGE',
  'TZ',
  'COLUMNS',
  'LINES',
  'NO_COLOR',
] as const;
const LOCALE = /^LC_[A-Z]+$/;

/** Fixed values: the sandbox's own paths, never the host's. */
export const FIXED_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: SANDBOX_PATHS.home,
  USER: SANDBOX_USER.name,
  LOGNAME: SANDBOX_USER.name,
  SHELL: '/bin/bash',
  PWD: SANDBOX_PATHS.workspace,
  TMPDIR: '/tmp',
};

/** Proxy variables the network plumbing may set (upper- and lower-case, as tools differ). */
export const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
  name,
  name.toLowerCase(),
]);

/** CA variables that make curl, OpenSSL, Node, Python requests and git trust the supervisor's CA. */
export const CA_VARIABLES = [
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'GIT_SSL_CAINFO',
] as const;

export interface SandboxEnvInput {
  /** The caller's environment; only PASSED_THROUGH and LC_* are read from it. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** From the network plumbing; only PROXY_VARIABLES are taken. */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** Whether the supervisor's CA bundle is mounted at SANDBOX_PATHS.caBundle. */
  readonly caMounted: boolean;
  /**
   * The egress gateway's credential placeholders (EgressGateway.credentialEnv()); only names
   * starting with CREDENTIAL_ENV_PREFIX are taken. Placeholders, never secrets: a placeholder
   * resolves only at the gateway and only for the service bound to it.
   */
  readonly credentialEnv?: Readonly<Record<string, string>>;
}

/** The complete environment of the agent's command. */
export function buildSandboxEnv(input: SandboxEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.hostEnv)) {
    if (value === undefined || value.includes('\0')) continue;
    if ((PASSED_THROUGH as readonly string[]).includes(name) || LOCALE.test(name)) env[name] = value;
  }
  Object.assign(env, FIXED_ENV);
  for (const name of PROXY_VARIABLES) {
    const value = input.proxyEnv?.[name];
    if (value !== undefined) env[name] = value;
  }
  if (input.caMounted) for (const name of CA_VARIABLES) env[name] = SANDBOX_PATHS.caBundle;
  for (const [name, value] of Object.entries(input.credentialEnv ?? {})) {
    if (name.startsWith(CREDENTIAL_ENV_PREFIX) && !value.includes('\0')) env[name] = value;
  }
  return env;
}
