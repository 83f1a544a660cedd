// The one registry of Paddock error codes. Codes are never renamed or reused:
// callers (and operators' runbooks) match on `code`. docs/errors.md is generated
// from this table (`npm run docs:errors`) and a test keeps the two in sync.

export interface ErrorSpec {
  /** Default message: what failed. */
  readonly message: string;
  /** What the operator should do next. */
  readonly fix: string;
  /** HTTP status when the control plane returns this error. */
  readonly status: number;
  /** Whether the message may leave the process (to an API client); otherwise a generic failure is sent. */
  readonly expose: boolean;
}

export const ERRORS = {
  // core / runtime
  PDK_INTERNAL: {
    message: 'internal error',
    fix: 'This is a bug in Paddock. Re-run with PADDOCK_LOG=debug and report the log lines.',
    status: 500,
    expose: false,
  },
  PDK_NODE_VERSION: {
    message: 'Paddock needs Node.js 24',
    fix: 'Run Paddock through npm (npm start, npx paddock), which uses the Node.js 24 pinned in devDependencies, or install Node.js 24 LTS.',
    status: 500,
    expose: false,
  },

  // cli
  PDK_CLI_USAGE: {
    message: 'invalid command line',
    fix: 'Run the command with --help to see its arguments and options.',
    status: 400,
    expose: true,
  },
  PDK_UP_CHECK: {
    message: 'paddock up --check found a part that did not come up',
    fix: 'The message names the part; the supervisor log is under DATA_DIR/workspaces/ID/supervisor.log, and `npx paddock doctor` checks the sandbox.',
    status: 500,
    expose: false,
  },
  PDK_CLI_UNKNOWN_COMMAND: {
    message: 'unknown command',
    fix: 'Run `paddock --help` for the list of commands.',
    status: 400,
    expose: true,
  },

  // config (desired-state repository)
  PDK_CONFIG_NOT_FOUND: {
    message: 'desired-state directory or file not found',
    fix: 'Pass --config DIR (or set PADDOCK_CONFIG) to a directory that holds paddock.yaml.',
    status: 404,
    expose: true,
  },
  PDK_CONFIG_INVALID: {
    message: 'desired-state repository is invalid',
    fix: 'Fix each listed problem (file:line:column field: message) and run `paddock validate` again.',
    status: 422,
    expose: true,
  },
  PDK_CONFIG_YAML: {
    message: 'YAML could not be parsed',
    fix: 'Fix the YAML syntax at the reported line and column; duplicate keys and anchors/aliases are not allowed.',
    status: 422,
    expose: true,
  },
  PDK_CONFIG_TOO_LARGE: {
    message: 'file exceeds the size limit',
    fix: 'Split the file or remove content; desired-state files are limited to 1 MiB each.',
    status: 413,
    expose: true,
  },
  PDK_CONFIG_SCHEMA_WRITE: {
    message: 'JSON Schema files could not be written',
    fix: 'Check that --out names a directory you may write to (it is created when missing) and that the disk has space.',
    status: 500,
    expose: false,
  },
  PDK_BLUEPRINT_NOT_FOUND: {
    message: 'blueprint not found',
    fix: 'Check the name against `metadata.name` of the files in blueprints/, or pass a path to a blueprint file.',
    status: 404,
    expose: true,
  },
  PDK_BLUEPRINT_CYCLE: {
    message: 'blueprint inheritance cycle',
    fix: 'Remove one `extends` link so that the chain ends at a blueprint without `extends`.',
    status: 422,
    expose: true,
  },
  PDK_BLUEPRINT_WIDENS: {
    message: 'blueprint widens its parent',
    fix: 'A blueprint that `extends` another may only narrow it: remove the listed values, or change the parent.',
    status: 422,
    expose: true,
  },
  PDK_PROFILE_NOT_FOUND: {
    message: 'profile not found',
    fix: 'Check the name against `metadata.name` of the files in profiles/ of the desired-state directory (--config); `paddock validate` lists files that failed their checks.',
    status: 404,
    expose: true,
  },

  // store
  PDK_STORE_UNAVAILABLE: {
    message: 'the store could not be reached',
    fix: 'Check the database URL or the data directory, and that PostgreSQL is running and accepts the credentials.',
    status: 503,
    expose: false,
  },
  PDK_STORE_MIGRATION: {
    message: 'store migration failed',
    fix: 'The database schema is newer than this Paddock, or a migration failed half-way; restore the backup or upgrade Paddock.',
    status: 500,
    expose: false,
  },
  PDK_STORE_CONFLICT: {
    message: 'the record changed or already exists',
    fix: 'Re-read the record and retry the change.',
    status: 409,
    expose: true,
  },
  PDK_STORE_NOT_FOUND: {
    message: 'record not found',
    fix: 'Check the id; the record may have been removed.',
    status: 404,
    expose: true,
  },

  // egress gateway
  PDK_EGRESS_DENIED: {
    message: 'egress denied by policy',
    fix: "The blueprint does not allow this destination or request. Read `reason` and `missingRule` in the response body; if the access is intended, add that service, port or rule to the blueprint's spec.services.",
    status: 403,
    expose: true,
  },
  PDK_EGRESS_BAD_REQUEST: {
    message: 'request refused as malformed or ambiguous',
    fix: 'The client sent HTTP the gateway will not forward (conflicting Content-Length and Transfer-Encoding, folded or invalid headers, bad chunk sizes, oversized head). Use a standard HTTP/1.1 client.',
    status: 400,
    expose: true,
  },
  PDK_EGRESS_LIMIT: {
    message: 'egress limit reached',
    fix: 'The sandbox has too many open connections or sent an oversized request head; close idle connections, or raise the gateway limits (maxConnections, maxHeaderBytes).',
    status: 429,
    expose: true,
  },
  PDK_EGRESS_REVIEW: {
    message: 'egress request held for human review',
    fix: 'A review gate covers this write. Read `error` in the response body: review_pending means a reviewer must run `paddock review approve ID`, then the agent repeats the identical request (same method, URL and body) once; review_denied and review_expired mean it stays refused, and a changed request needs a new review.',
    status: 403,
    expose: true,
  },
  PDK_EGRESS_UPSTREAM: {
    message: 'upstream connection failed',
    fix: 'The allowed destination could not be reached or its TLS certificate did not verify; check the service is up and presents a certificate valid for the host name.',
    status: 502,
    expose: true,
  },
  PDK_EGRESS_POLICY_INVALID: {
    message: 'egress policy is invalid',
    fix: 'Fix each listed service field (hosts, ports, rules, cidrs, credentialHeader) in the blueprint and reload.',
    status: 422,
    expose: true,
  },
  PDK_EGRESS_RELAY_BUILD: {
    message: 'the egress relay (the native L4 data path) could not be built',
    fix: 'Install a C compiler (`scripts/setup.sh` installs gcc); the message quotes the compiler output.',
    status: 500,
    expose: false,
  },
  PDK_EGRESS_RELAY: {
    message: 'the egress relay stopped',
    fix: 'Tunnels it carried were closed; new ones start a new relay. If it keeps stopping, the supervisor log has its last words.',
    status: 502,
    expose: false,
  },
  PDK_EGRESS_CA: {
    message: 'the workspace CA could not be loaded or created',
    fix: 'Check the CA directory is readable and writable by the supervisor only; remove a corrupt ca.key/ca.pem pair to have a new CA created (sandboxes must then be restarted to trust it).',
    status: 500,
    expose: false,
  },
  PDK_EGRESS_HOST_GATEWAY: {
    message: "the workspace's egress gateway on the host's loopback could not start",
    fix: "The message names the cause: a `hostEgress` port already in use on 127.0.0.1 (free it or choose other ports in the guest's supervisor config), or `caCertFile`'s directory not writable by the supervisor. Until it starts, the agent's account has no network (the firewall rule blocks everything else); restart the supervisor service once fixed.",
    status: 500,
    expose: false,
  },
  PDK_SECRET_NOT_FOUND: {
    message: 'secret not found',
    fix: "Add the secret named by the service's `credential` to the supervisor's secret store, or correct the name in the blueprint. A supervisor started without a store has none: give one with `paddock run --secrets FILE`, or `paddock up` / `paddock serve --secrets FILE` for local workspaces (KubeVirt and Azure workspaces have no store yet, docs/egress.md).",
    status: 404,
    expose: false,
  },
  PDK_SECRET_STORE_INVALID: {
    message: 'the secret store could not be opened',
    fix: 'The store file is corrupt, or the key file is missing, unreadable or the wrong key; restore both from backup. The key file must hold 32 raw bytes or a passphrase.',
    status: 500,
    expose: false,
  },
  PDK_SECRET_STORE_EXPOSED: {
    message: 'the secret store or its key lies where the sandbox can read it',
    fix: "Move the store and its key file (default FILE.key) out of the named directory (the run's --workdir, or the workspace's workdir or home) to a directory only the supervisor can read, and point --secrets / --secrets-key (or the supervisor config's `secrets`) there.",
    status: 500,
    expose: false,
  },

  // sandbox network (namespace, veth, nftables, egress listeners)
  PDK_NETWORK_UNAVAILABLE: {
    message: 'the sandbox network cannot be built on this host',
    fix: 'Run the supervisor as root with iproute2 (ip), nftables (nft) and util-linux (nsenter) installed, on a kernel with network namespaces, veth and nf_tables (with nat, fib and socket); `paddock doctor` lists what is missing.',
    status: 500,
    expose: false,
  },
  PDK_NETWORK_SETUP: {
    message: 'the sandbox network could not be set up',
    fix: 'The message quotes the failing ip/nft output. Check that nothing else manages interfaces named pdkh* or the nftables tables paddock and paddock_host, run `paddock doctor`, and restart the supervisor (it sweeps half-built networks).',
    status: 500,
    expose: false,
  },
  PDK_NETWORK_ADDRESS_POOL: {
    message: 'the sandbox address pool is invalid or overlaps a host route',
    fix: 'Choose an aligned private IPv4 range between /12 and /29 (default 10.231.0.0/16) that no host interface or route uses, and set it as the supervisor address pool.',
    status: 500,
    expose: false,
  },
  PDK_NETWORK_ADDRESS_EXHAUSTED: {
    message: 'no free sandbox address slot',
    fix: 'Every /30 of the address pool is in use. Stop sandboxes that are no longer needed, restart the supervisor to sweep networks left by crashed runs, or configure a larger pool.',
    status: 503,
    expose: false,
  },
  PDK_NETWORK_LISTEN: {
    message: "an egress listener could not bind on the sandbox's host address",
    fix: 'Another process listens on the same port on every address (for example squid on 0.0.0.0:3128). Stop it or configure other proxy ports; the sandbox is not started without its listeners.',
    status: 500,
    expose: false,
  },
  PDK_NETWORK_COUNTERS: {
    message: "the sandbox firewall's drop counters could not be read",
    fix: 'Read them before closing the network. If the network is open, its nftables table was changed by something other than Paddock: stop the sandbox and investigate.',
    status: 500,
    expose: false,
  },
  PDK_NETWORK_TEARDOWN: {
    message: 'the sandbox network could not be removed',
    fix: 'Remove the leftovers by hand (`ip netns del pdk-<slot>-<pid>`, `ip link del pdkh<slot>`), or restart the supervisor, which sweeps networks whose owner process is gone.',
    status: 500,
    expose: false,
  },

  // sandbox (launcher: bubblewrap, seccomp, Landlock, limits)
  PDK_SANDBOX_NOT_ROOT: {
    message: 'the sandbox launcher needs root',
    fix: 'Run `paddock run` as root (for example with sudo): it creates the network namespace and drops to a dedicated unprivileged uid, which only root can do.',
    status: 500,
    expose: false,
  },
  PDK_SANDBOX_FEATURE_MISSING: {
    message: 'a kernel or host feature the sandbox needs is missing',
    fix: 'Run `paddock doctor` for what is missing and how to enable it. Landlock alone may be waived per blueprint with spec.sandbox.allowMissing: [landlock], which is logged and audited.',
    status: 500,
    expose: false,
  },
  PDK_SANDBOX_SCOPE: {
    message: 'the blueprint dataScope cannot be applied safely',
    fix: 'Fix the named path: writable scopes must exist, no scope may be "/", a system directory or a symlink, and protected paths (.claude/, .git/hooks, …) must not be symlinks.',
    status: 422,
    expose: true,
  },
  PDK_SANDBOX_START: {
    message: 'the sandbox could not be started',
    fix: 'The message quotes the launcher or bubblewrap error. Run `paddock doctor`; with PADDOCK_LOG=debug the full bubblewrap command line is logged.',
    status: 500,
    expose: false,
  },
  PDK_SANDBOX_UID_EXHAUSTED: {
    message: 'no free sandbox uid',
    fix: 'Every uid of the sandbox range is held by a running sandbox. Stop sandboxes that are no longer needed; stale slots of dead launchers are reclaimed automatically.',
    status: 503,
    expose: false,
  },
  PDK_SANDBOX_GIT_SCAN_LIMIT: {
    message: 'the scan for git repositories under a writable scope ran out of its budget',
    fix: 'The launcher protects the hooks and config of every git repository beneath a writable scope, and refuses to start when it cannot find them all. Narrow dataScope.write to the directories the agent must change (a dependency tree rarely needs to be writable), or remove checkouts it does not need; the message names the limit and the directory where it ran out.',
    status: 422,
    expose: true,
  },
  PDK_SANDBOX_NATIVE_BUILD: {
    message: "the sandbox's native helpers could not be built",
    fix: 'Install a C compiler (`scripts/setup.sh` installs gcc) and run `sh src/supervisor/sandbox/native/build.sh`; the message quotes the compiler output.',
    status: 500,
    expose: false,
  },

  // policy (Cedar decision point)
  PDK_POLICY_PARSE: {
    message: 'a Cedar policy could not be parsed',
    fix: 'Fix the Cedar syntax at the reported file and line (policies/*.cedar), then run `paddock validate` again.',
    status: 422,
    expose: true,
  },
  PDK_POLICY_INVALID: {
    message: 'a policy does not fit the Paddock Cedar schema',
    fix: 'Fix each listed problem: use the entity types, actions and context attributes of docs/policy.md, annotate only @id, @reason and @review("required"|"none"), and no templates.',
    status: 422,
    expose: true,
  },
  PDK_POLICY_ENGINE: {
    message: 'the Cedar engine failed',
    fix: 'This is a bug in Paddock or cedar-wasm; the decision was deny. Report the log lines with the bundle id.',
    status: 500,
    expose: false,
  },
  PDK_POLICY_REQUEST_INVALID: {
    message: 'the decision request is malformed',
    fix: 'Send one JSON object per line with "action" and the fields docs/policy.md lists for it; the answer was deny.',
    status: 400,
    expose: true,
  },
  PDK_POLICY_REQUEST_TOO_LARGE: {
    message: 'the decision request exceeds the size limit',
    fix: 'Keep each request line under the limit (64 KiB by default); the answer was deny and the connection was closed.',
    status: 413,
    expose: true,
  },
  PDK_POLICY_SOCKET: {
    message: 'the policy decision socket could not be served',
    fix: 'Check that the socket directory exists and is writable by the supervisor and that no other file (not a stale socket) sits at the socket path.',
    status: 500,
    expose: false,
  },

  // hook adapters (paddock hook)
  PDK_HOOK_INPUT: {
    message: 'the hook input could not be read',
    fix: 'The harness sent JSON that is not a PreToolUse/PostToolUse (BeforeTool/AfterTool) tool event; check that the managed settings install `paddock hook <harness>` with the right harness name. The call was denied.',
    status: 400,
    expose: true,
  },
  PDK_HOOK_UNAVAILABLE: {
    message: 'the hook client got no decision from the supervisor',
    fix: 'Run the agent inside a Paddock sandbox whose supervisor is running (the hook socket is bound at /run/paddock/hook.sock). The call was denied; retry once the supervisor is back.',
    status: 503,
    expose: true,
  },
  PDK_HOOK_CLIENT_BUILD: {
    message: 'the native hook client could not be built',
    fix: 'Install a C compiler (`scripts/setup.sh` installs gcc); the message quotes the compiler output. Without it, install the hooks with the Node.js client (`paddock hook install` without --client).',
    status: 500,
    expose: false,
  },
  PDK_HOOK_SETTINGS_WRITE: {
    message: 'the managed hook settings could not be written',
    fix: 'Check that --out names a directory you may write to (it is created when missing) and that the disk has space.',
    status: 500,
    expose: false,
  },

  // MCP gateway
  PDK_MCP_CONFIG_INVALID: {
    message: 'the MCP gateway configuration is invalid',
    fix: "Fix the listed server: every server in the blueprint's spec.tools.mcp needs services/NAME.yaml with spec.mcp, and no two allowed tools may be exposed under one name. Run `paddock validate`.",
    status: 422,
    expose: true,
  },
  PDK_MCP_UPSTREAM: {
    message: 'an MCP server could not be reached',
    fix: "Check the server's spec.mcp (command and read paths, or url), its credential in the secret store, and the supervisor log (PADDOCK_LOG=debug). Its tools are unavailable until it answers.",
    status: 502,
    expose: false,
  },
  PDK_MCP_SHIM: {
    message: 'the MCP shim could not reach the MCP gateway',
    fix: 'Run `paddock mcp-shim` inside a Paddock sandbox whose supervisor serves the MCP gateway, or point PADDOCK_MCP_SOCKET (or --socket) at its socket.',
    status: 503,
    expose: true,
  },
  PDK_MCP_PIN_STORE: {
    message: 'the MCP tool pin store could not be read or written',
    fix: 'Check that the pin file is readable and writable by the supervisor only and is valid JSON; restore it from backup (a removed file re-pins every tool at its next sight).',
    status: 500,
    expose: false,
  },

  // audit
  PDK_AUDIT_CHAIN_BROKEN: {
    message: 'audit chain verification failed',
    fix: 'The audit log was edited, truncated or reordered after it was written. Preserve the file for investigation and restore from a trusted copy.',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_READ: {
    message: 'audit log could not be read',
    fix: 'Check that the file exists and is readable, and that it is a Paddock audit log (JSON lines).',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_WRITE: {
    message: 'audit log could not be written',
    fix: 'Check free space and permissions where the audit log lives. The action was not reported done; the writer refuses further appends until reopened, and `paddock audit verify` names any partial record left at the end.',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_EVENT_INVALID: {
    message: 'audit event is invalid',
    fix: 'This is a bug in the event builder that produced it; report it with the event class.',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_SINK_CONFIG: {
    message: 'audit sink is misconfigured',
    fix: 'The message names the sink and what is missing (a token variable that is unset, a CA file that cannot be read). Fix the sink in paddock.yaml or the environment and restart; events meanwhile go to its dead-letter file.',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_SINK_REJECTED: {
    message: 'audit sink rejected a batch',
    fix: "The collector refused the events for good (bad request, bad token, no permission). They are in the sink's dead-letter file: fix the sink's credentials or settings, then replay that file.",
    status: 502,
    expose: false,
  },
  PDK_AUDIT_SINK_UNAVAILABLE: {
    message: 'audit sink is unavailable',
    fix: 'The collector could not be reached or asked to retry later; the sink retries with backoff. If it stays down, check the collector and the network; batches that exhaust their retries go to the dead-letter file.',
    status: 503,
    expose: false,
  },
  PDK_AUDIT_KEY: {
    message: 'audit checkpoint signing key is unusable',
    fix: 'The key file must be an Ed25519 private key in PKCS#8 PEM, owned by the control plane and mode 0600. Fix its mode (chmod 600), or move it aside to generate a new key on the next start (checkpoints signed with the old key then need its public key to verify).',
    status: 500,
    expose: false,
  },
  PDK_AUDIT_SHIP: {
    message: 'audit events could not be shipped to the control plane',
    fix: 'The events stay in the local spool and are sent again on the next attempt. Check the channel to the control plane; a refused batch (a forked chain) needs a human: preserve the spool directory and run `paddock audit verify` on the control plane.',
    status: 502,
    expose: false,
  },

  // review gates (held calls, the review queue, `paddock review`)
  PDK_REVIEW_NOT_FOUND: {
    message: 'review request not found',
    fix: 'Check the id with `paddock review list`; ids look like rv-0123456789abcdef.',
    status: 404,
    expose: true,
  },
  PDK_REVIEW_CLOSED: {
    message: 'review request is already decided',
    fix: 'Nothing to do: a decided request cannot change. A denied call stays refused for its session; a changed call, or the same call after its approval was used, is held as a new request.',
    status: 409,
    expose: true,
  },
  PDK_REVIEW_EXPIRED: {
    message: 'review request timed out',
    fix: "The gate's timeout passed and its onTimeout applied. Answer sooner next time, or ask the blueprint owner for a longer reviewGates.timeout.",
    status: 409,
    expose: true,
  },
  PDK_REVIEW_SELF_APPROVAL: {
    message: 'the requester cannot answer their own review request',
    fix: 'Ask another reviewer the gate names (see `paddock review show ID`). The attempt was recorded in the audit trail.',
    status: 403,
    expose: true,
  },
  PDK_REVIEW_NOT_REVIEWER: {
    message: 'not a reviewer of this request',
    fix: "Only the users and group members the blueprint's reviewGates.reviewers names may answer; `paddock review show ID` lists them. The attempt was recorded in the audit trail.",
    status: 403,
    expose: true,
  },
  PDK_REVIEW_DUPLICATE: {
    message: 'this reviewer already approved the request',
    fix: 'Approvals must come from distinct reviewers: ask another reviewer the gate names.',
    status: 409,
    expose: true,
  },
  PDK_REVIEW_INVALID: {
    message: 'review input is invalid',
    fix: "Give a non-empty --reason of at most 1000 characters; for a held call, check the blueprint's reviewGates and the arguments (JSON data).",
    status: 400,
    expose: true,
  },
  PDK_REVIEW_UNAVAILABLE: {
    message: 'review socket is not reachable',
    fix: 'Reviews are answered on the socket of a running `paddock run` whose blueprint has reviewGates: check that it runs, pass --socket PATH if it listens elsewhere, and run `paddock review` as a user who may open the socket (root).',
    status: 503,
    expose: true,
  },
  PDK_REVIEW_SOCKET: {
    message: 'review socket could not be served',
    fix: 'Another `paddock run` may already serve reviews on that socket (stop it, or give this run another socket), or its directory is missing, not private (writable by others) or not writable: use a root-owned directory of mode 0700.',
    status: 500,
    expose: false,
  },

  // control plane HTTP API, sign-in and sessions
  PDK_HTTP_NOT_FOUND: {
    message: 'no such route',
    fix: 'Check the method and path against docs/api.md.',
    status: 404,
    expose: true,
  },
  PDK_HTTP_METHOD: {
    message: 'method not allowed on this route',
    fix: 'Use one of the methods the Allow header lists (docs/api.md).',
    status: 405,
    expose: true,
  },
  PDK_HTTP_BAD_REQUEST: {
    message: 'request is malformed',
    fix: 'Send a JSON body (Content-Type: application/json) with the fields docs/api.md lists for this route.',
    status: 400,
    expose: true,
  },
  PDK_HTTP_TOO_LARGE: {
    message: 'request body is too large',
    fix: 'Control-plane request bodies are limited to 64 KiB; send less.',
    status: 413,
    expose: true,
  },
  PDK_HTTP_LISTEN: {
    message: 'control plane could not listen',
    fix: 'Another process may hold the port: pass --port N with a free port, or stop the other process.',
    status: 500,
    expose: false,
  },
  PDK_AUTH_REQUIRED: {
    message: 'sign-in required: the session is missing, expired or revoked',
    fix: 'Sign in again: open the console, or run `paddock login`.',
    status: 401,
    expose: true,
  },
  PDK_AUTH_FORBIDDEN: {
    message: 'not allowed for this user',
    fix: "Only the workspace's owner, a reviewer of the request or an administrator may do this; ask an administrator (identity.adminGroups) if you need access.",
    status: 403,
    expose: true,
  },
  PDK_AUTH_ORIGIN: {
    message: 'cross-origin request refused',
    fix: 'State-changing requests with the session cookie must come from the console itself (Origin equal to the public origin). Scripts and the CLI use a bearer token (`paddock login`).',
    status: 403,
    expose: true,
  },
  PDK_AUTH_LOGIN_FAILED: {
    message: 'sign-in failed',
    fix: 'Start the sign-in again from the console (or `paddock login`); if it keeps failing, the audit trail (session.login_failed) names the reason.',
    status: 401,
    expose: true,
  },
  PDK_AUTH_USER_DISABLED: {
    message: 'user is disabled',
    fix: 'An administrator disabled this user (at the identity provider or in Paddock); ask them to enable it again.',
    status: 403,
    expose: true,
  },
  PDK_AUTH_IDP_UNAVAILABLE: {
    message: 'identity provider is not reachable',
    fix: "Check spec.identity.issuer in paddock.yaml and that its /.well-known/openid-configuration answers from the control plane's host.",
    status: 503,
    expose: true,
  },
  PDK_AUTH_CONFIG: {
    message: 'identity settings are incomplete',
    fix: 'Set spec.identity in paddock.yaml (provider, issuer, clientId) and the environment variable clientSecretEnv names; see docs/identity.md.',
    status: 500,
    expose: false,
  },
  PDK_AUTH_SESSION_KEY: {
    message: 'the session key (which seals the stored IdP refresh tokens) is missing or unusable',
    fix: 'For paddock serve, create the Secret the chart mounts (sessionKey.secretName, key `key`) holding 32 random bytes in base64, the same for every replica: `kubectl create secret generic paddock-session-key --from-literal=key="$(openssl rand -base64 32)"`. For paddock up, the key is DATA_DIR/session-key (mode 0600); a key file readable by others must be fixed with chmod 600. A stored token that no longer opens (key replaced) ends its session: its user signs in again.',
    status: 500,
    expose: false,
  },
  PDK_AUTH_NOT_SIGNED_IN: {
    message: 'not signed in to a control plane',
    fix: 'Run `paddock login --server URL` first; the session is saved in $XDG_CONFIG_HOME/paddock/session.json.',
    status: 401,
    expose: true,
  },
  PDK_REVIEW_WEBHOOK_CONFIG: {
    message: 'review webhook is misconfigured',
    fix: 'Set the environment variable spec.reviews.webhook.urlEnv names to the webhook URL (https; plain http only to this machine), or remove spec.reviews.webhook.',
    status: 500,
    expose: false,
  },
  PDK_AUTH_SERVER_UNREACHABLE: {
    message: 'control plane is not reachable',
    fix: 'Check the --server URL (or the one saved by `paddock login`) and that `paddock up` is running there.',
    status: 503,
    expose: true,
  },

  // workspace lifecycle and the local provider
  PDK_WORKSPACE_NOT_FOUND: {
    message: 'workspace not found',
    fix: 'Check the id with GET /api/workspaces; a decommissioned workspace keeps its record but no data.',
    status: 404,
    expose: true,
  },
  PDK_WORKSPACE_TRANSITION: {
    message: 'the workspace cannot take this action in its current state',
    fix: 'The message names the state and the action; see docs/workspaces.md for the allowed transitions (e.g. start a stopped workspace, rebuild a stopped or running one). A revoked workspace can only be decommissioned.',
    status: 409,
    expose: true,
  },
  PDK_WORKSPACE_PROVIDER: {
    message: "the workspace's provider failed",
    fix: "The message names the provider and the step. For the local provider, check the supervisor's log under DATA_DIR/workspaces/ID/supervisor.log and that Paddock runs as root; then retry the action.",
    status: 502,
    expose: false,
  },

  // kubevirt provider (renderer, admission rules, server-side apply)
  PDK_KUBEVIRT_SETTINGS_INVALID: {
    message: 'kubevirt provider settings are invalid',
    fix: 'Fix each listed field of the kubevirt settings file (docs/kubevirt.md lists every field and its default).',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_CLOUD_INIT_TOO_LARGE: {
    message: 'cloud-init user data is too large',
    fix: 'Inline user data is limited to 2048 bytes and a Secret to 1 MiB: keep user data in the Secret Paddock renders, and trim the desired-state files it carries (large blueprints, policies).',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_SIZING_CONFLICT: {
    message: 'a VirtualMachine sets both an instancetype and explicit CPU or memory',
    fix: 'Use either settings.instancetype (and preference) or the profile size: remove the instancetype from the kubevirt settings to size the VM from the profile.',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_EGRESS_FIREWALL_INVALID: {
    message: 'the EgressFirewall breaks an OVN-Kubernetes admission rule',
    fix: 'The message names the rule: the EgressFirewall must be named default, hold at most 8000 rules and end with Deny rules for 0.0.0.0/0 and ::/0. Trim settings.allowedEgressCidrs.',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_IMAGE_NOT_PINNED: {
    message: 'the workspace image is not pinned by digest',
    fix: 'Set the profile image to a reference ending in @sha256:<64 hex digits> (the golden image by digest, never a tag).',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_RESOURCE_INVALID: {
    message: 'a rendered resource breaks a Kubernetes admission rule',
    fix: 'The message names the resource and the rule (name length, label value, network binding, default-deny policy). Fix the setting it came from; see docs/kubevirt.md.',
    status: 400,
    expose: true,
  },
  PDK_KUBEVIRT_APPLY: {
    message: 'the Kubernetes API refused or failed a request',
    fix: 'The message names the resource, the HTTP status and the API server reason. Check the kubeconfig or service account, its RBAC (docs/kubevirt.md lists the verbs), and that OpenShift Virtualization and CDI are installed.',
    status: 502,
    expose: false,
  },
  PDK_KUBEVIRT_WORKSPACE_REVOKED: {
    message: 'the workspace was revoked',
    fix: 'A revoked workspace is never provisioned, started or rebuilt again; its owner gets a new workspace from the reconciler while still assigned. Decommission the revoked one when its disk is no longer needed.',
    status: 409,
    expose: true,
  },

  // azure provider (ARM renderer, its rules, deployments)
  PDK_AZURE_SETTINGS_INVALID: {
    message: 'azure provider settings are invalid',
    fix: 'Fix each listed field of the azure settings file (docs/azure.md lists every field).',
    status: 400,
    expose: true,
  },
  PDK_AZURE_PUBLIC_IP: {
    message: 'a workspace network interface has a public IP address',
    fix: 'Workspaces are reached only through the outbound channel: remove publicIPAddress from every ipConfiguration of the NIC (docs/azure.md, network boundary).',
    status: 400,
    expose: true,
  },
  PDK_AZURE_ROUTE_INVALID: {
    message: 'a workspace route table does not send all traffic to the firewall',
    fix: 'The route table needs 0.0.0.0/0 with nextHopType VirtualAppliance to settings.hub.firewallPrivateIp and disableBgpRoutePropagation true, and no other route. Fix the setting the message names.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_NSG_INVALID: {
    message: 'a workspace network security group breaks the network boundary',
    fix: 'The NSG must deny every settings.corporateCidrs range in both directions before any allow, allow no inbound traffic, and end with deny-all rules. The message names the missing or offending rule.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_KEY_VAULT_PUBLIC: {
    message: 'the Key Vault is reachable from public networks',
    fix: 'The Key Vault must set publicNetworkAccess Disabled, networkAcls defaultAction Deny and be reached through its private endpoint only.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_CUSTOM_DATA_TOO_LARGE: {
    message: 'VM custom data is larger than Azure accepts (64 KB base64)',
    fix: 'Custom data carries the supervisor settings and the desired-state files of the workspace: trim large blueprints or policies, or split the blueprint.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_FIREWALL_SKU: {
    message: 'TLS inspection needs Azure Firewall Premium',
    fix: 'Application rules with terminateTLS (services with access, rules or a credential) need the firewall and its policy on the Premium tier, with transportSecurity set to the inspection CA in Key Vault.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_FIREWALL_RULES_INVALID: {
    message: "the firewall policy's application rules do not match the blueprints' services",
    fix: 'Every host of every blueprint service must appear in exactly one application rule collection and nothing else may. Re-render; if hosts are IP literals or non-HTTP ports, see docs/azure.md.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_DIAGNOSTICS_MISSING: {
    message: 'a hub resource sends no diagnostics to Log Analytics',
    fix: 'The firewall and the Key Vault each need a diagnosticSettings resource sending allLogs to settings.logAnalyticsWorkspaceId (the Sentinel workspace).',
    status: 400,
    expose: true,
  },
  PDK_AZURE_VM_INVALID: {
    message: 'a workspace VM breaks an Azure provider rule',
    fix: 'Workspace VMs run Trusted Launch (secure boot and vTPM) from an Azure Compute Gallery image version with a user-assigned identity and no password login. The message names the rule.',
    status: 400,
    expose: true,
  },
  PDK_AZURE_CREDENTIAL: {
    message: 'no Azure credential could be built from the settings',
    fix: 'Set settings.auth.mode to workload-identity (with AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID from the CI federation) or managed-identity (inside Azure, optionally with clientId).',
    status: 500,
    expose: false,
  },
  PDK_AZURE_ARM: {
    message: 'Azure Resource Manager refused or failed a request',
    fix: 'The message names the operation, the HTTP status and the ARM error code. Check the role assignments of the deploying identity (docs/azure.md) and the deployment in the resource group.',
    status: 502,
    expose: false,
  },
  PDK_AZURE_WORKSPACE_REVOKED: {
    message: 'the workspace was revoked',
    fix: 'A revoked workspace is never started again; its owner gets a new workspace from the reconciler while still assigned. Decommission the revoked one when its data disk is no longer needed (its revocation marker secret stays in the Key Vault, so its id is never reused).',
    status: 409,
    expose: true,
  },

  // control plane on a cluster (leader election, fan-out)
  PDK_CLUSTER_NOT_LEADER: {
    message: 'this replica is not the leader of the given term',
    fix: 'A write done as leader found a newer leader term (this replica lost its lock). Nothing was written; the new leader carries on. If it repeats, check the PostgreSQL connection of the replicas.',
    status: 409,
    expose: false,
  },
  PDK_SERVE_DATABASE: {
    message: 'paddock serve needs a PostgreSQL store',
    fix: 'Set PADDOCK_DATABASE_URL to a postgres:// URL (the chart reads it from the Secret in database.secretName). Replicas share one PostgreSQL; SQLite is only for paddock up on one machine.',
    status: 500,
    expose: false,
  },
  PDK_SERVE_AUDIT_KEY: {
    message: 'paddock serve has no audit checkpoint signing key',
    fix: 'Every replica signs audit checkpoints with one Ed25519 key, which serve never generates. Create it once (openssl genpkey -algorithm ed25519 -out checkpoint-key.pem; openssl pkey -in checkpoint-key.pem -pubout -out checkpoint-key.pub.pem), store both files in the Secret named by the chart value audit.signingKey.secretName (default paddock-audit-key) and keep a copy of the public key outside the cluster. Without the chart, pass the key file with --audit-key.',
    status: 500,
    expose: false,
  },
  PDK_SERVE_RELEASE_KEYS: {
    message: 'paddock serve has no usable policy release signing keys',
    fix: "Every replica signs policy releases with the same keys, mounted from a Secret (the chart's releases.keysSecretName, at --release-keys DIR): for each channel in paddock.yaml spec.releases.channels, an Ed25519 PEM key CHANNEL.online.pem and CHANNEL.signer-N.pem for N = 1 up to its threshold. The message names the missing or refused files; docs/releases.md shows how to generate them. Once a channel's root is in the store, keep mounting the keys it was made with: supervisors trust that root, so a replaced Secret is refused.",
    status: 500,
    expose: false,
  },
  PDK_CLUSTER_NOTIFY: {
    message: 'a cluster notification could not be delivered',
    fix: 'Check that PostgreSQL is reachable from every replica; payloads over 7900 bytes are refused (send an id and read the record instead).',
    status: 503,
    expose: false,
  },

  // workspace channel (the supervisor's outbound connection to the control plane)
  PDK_CHANNEL_UNAUTHENTICATED: {
    message: "the workspace's channel credential was refused",
    fix: "The supervisor's identity is unknown, rotated away, revoked or expired, or its credential was replayed. Restart the workspace (it gets a fresh identity when started); a revoked workspace cannot reconnect.",
    status: 401,
    expose: true,
  },
  PDK_CHANNEL_NOT_CONNECTED: {
    message: 'the workspace is not connected',
    fix: 'Start the workspace and wait until it reports connected (GET /api/workspaces/ID); if it stays disconnected, check its supervisor log.',
    status: 503,
    expose: true,
  },
  PDK_CHANNEL_PROTOCOL: {
    message: 'malformed or oversized channel frame',
    fix: 'The peer broke the channel protocol (docs/workspaces.md); the connection was closed. Check that the supervisor and the control plane run the same Paddock version.',
    status: 400,
    expose: false,
  },
  PDK_CHANNEL_TERMINAL: {
    message: 'the workspace could not open the terminal',
    fix: "The message quotes the workspace's reason (sandbox setup, an unsupported mode); check the supervisor's log and run `paddock doctor` on the host.",
    status: 502,
    expose: true,
  },
  PDK_CHANNEL_REVIEW: {
    message: "the control plane's review queue did not answer: the review-gated call is refused",
    fix: "A workspace holds review-gated calls in the control plane's queue over its channel: check that the control plane runs with a review queue and the workspace is connected (its `connected` field), read the supervisor's log for the reason, then retry the call.",
    status: 503,
    expose: true,
  },

  // policy releases (bundles, the TUF release repository, the supervisor's bundle verifier)
  PDK_RELEASE_COMPILE: {
    message: 'the desired-state repository could not be compiled at this commit',
    fix: 'The message names the commit and the problem: check that the commit exists in the repository (`git rev-parse COMMIT`) and that `paddock validate` passes on a checkout of it.',
    status: 422,
    expose: true,
  },
  PDK_RELEASE_BUNDLE_INVALID: {
    message: 'a release bundle is malformed',
    fix: 'The bundle was not produced by this version of Paddock or was altered. Recompile and release it from its commit (`paddock policy release`).',
    status: 422,
    expose: true,
  },
  PDK_RELEASE_KEY: {
    message: 'a release signing key could not be used',
    fix: 'The message names the key file. Keys are Ed25519 PEM files readable only by the control plane (mode 0600) under DATA_DIR/releases/keys; restore the file from your backup or rotate the channel root.',
    status: 500,
    expose: false,
  },
  PDK_RELEASE_CHANNEL: {
    message: 'no such release channel or release',
    fix: "Use a channel listed in paddock.yaml's spec.releases.channels, and release to it before promoting from it (`paddock policy status` shows each channel's current release).",
    status: 404,
    expose: true,
  },
  PDK_RELEASE_THRESHOLD: {
    message: 'the release does not have enough signatures',
    fix: "The channel's threshold needs more distinct signers: have another key holder co-sign the pending release (`paddock policy promote --sign-with KEYFILE`), or lower spec.releases.channels[].threshold.",
    status: 409,
    expose: true,
  },
  PDK_RELEASE_SIGNATURE: {
    message: 'release metadata is not signed by enough trusted keys',
    fix: "The supervisor kept its last good bundle. Someone served metadata the channel's keys did not sign (or too few of them): check the control plane's release repository and its keys; never copy metadata between channels.",
    status: 502,
    expose: false,
  },
  PDK_RELEASE_ROLLBACK: {
    message: 'release metadata is older than the one already trusted',
    fix: 'The supervisor refused to go back to an older release and kept its bundle. Publish a new release (a higher version) to revert a policy, never restore old metadata files.',
    status: 502,
    expose: false,
  },
  PDK_RELEASE_EXPIRED: {
    message: 'release metadata has expired',
    fix: "The channel's timestamp (or another role) is past its expiry: the control plane re-signs the timestamp on a schedule, so check that it runs and its clock is right; the supervisor keeps its last good bundle meanwhile.",
    status: 502,
    expose: false,
  },
  PDK_RELEASE_MISMATCH: {
    message: 'release metadata or a bundle does not match what signed metadata recorded',
    fix: 'A file served does not have the version, length or hash its signed parent lists (mix-and-match or a corrupted file). Check the release repository under DATA_DIR/releases; the supervisor kept its last good bundle.',
    status: 502,
    expose: false,
  },
  PDK_RELEASE_TOO_LARGE: {
    message: 'a release file exceeds its size limit',
    fix: 'The supervisor stopped reading a file larger than its limit (endless-data defence). Keep bundles under the documented limit (docs/releases.md) and check what the control plane serves.',
    status: 502,
    expose: false,
  },
  PDK_RELEASE_FETCH: {
    message: 'a release file could not be fetched',
    fix: 'The supervisor could not fetch release metadata or a bundle over its channel (not connected, or the control plane has no such file). It retries on the next notification; check the workspace is connected and the channel has a release.',
    status: 503,
    expose: true,
  },
  PDK_RELEASE_CONFLICT: {
    message: 'the release files in the store changed while the command ran',
    fix: "Another writer (the reconciler's leader releasing or refreshing a timestamp, or another operator) changed the channel's release files between this command reading and writing them. Nothing was written: run the command again (`paddock policy status --database-url URL` shows the current state).",
    status: 409,
    expose: true,
  },
  PDK_RELEASE_UNTRUSTED_SIGNER: {
    message: "a signing key is not one of the channel's signers",
    fix: "The channel's current root does not list the key given with --sign-with, so its signature would not count; nothing was signed or written. Use a key the channel's root trusts (the keys the channel was first made with, or the ones a root rotation added).",
    status: 403,
    expose: true,
  },

  // GitOps reconciler (`paddock plan`, `paddock apply`) and what-if replay
  PDK_RECONCILE_SOURCE: {
    message: 'the desired-state repository could not be fetched',
    fix: 'The message shows what git said. Check the --repo URL and --ref (a branch, tag or commit that exists there), that `git` is installed, and that this host may read the repository.',
    status: 502,
    expose: true,
  },
  PDK_RECONCILE_APPROVER: {
    message: 'nobody is named as approving this apply',
    fix: 'Pass --approved-by EMAIL, or apply from a Git repository (--repo) so the commit author is recorded as the approver (docs/reconciler.md).',
    status: 400,
    expose: true,
  },
  PDK_RECONCILE_STEP: {
    message: 'a step of the apply failed; the apply stays open',
    fix: 'The message names the step and why it failed. Fix the cause and run `paddock apply` again: it resumes at the first step not done (steps already done are not repeated).',
    status: 500,
    expose: true,
  },
  PDK_RECONCILE_RUNNING: {
    message: 'the step acts on a running workspace this process does not supervise',
    fix: 'A running workspace belongs to the `paddock up` that started it: stop it first (`POST /api/workspaces/ID/actions/stop`), or let the reconciler inside the running control plane apply the plan; then run `paddock apply` again.',
    status: 409,
    expose: true,
  },

  // access broker (terminals, recordings, `paddock connect`)
  PDK_BROKER_REQUEST: {
    message: 'invalid terminal request',
    fix: 'Send cols and rows as integers within the documented bounds (docs/broker.md) and mode shell or ssh.',
    status: 400,
    expose: true,
  },
  PDK_BROKER_RECORDING: {
    message: 'the terminal recording could not be written',
    fix: "The terminal was refused or closed because it could not be recorded. Check that DATA_DIR/recordings exists, is owned by the control plane's user and has free space.",
    status: 500,
    expose: false,
  },
  PDK_BROKER_RECORDING_NOT_FOUND: {
    message: 'recording not found',
    fix: 'List the recordings with GET /api/recordings?workspace=ID and use an id from that list.',
    status: 404,
    expose: true,
  },
  PDK_CONNECT_REFUSED: {
    message: 'the control plane refused the terminal',
    fix: "The message gives the HTTP status and the server's reason; check the --server URL and that the workspace is yours and running (`paddock connect` with no workspace lists yours).",
    status: 502,
    expose: true,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface PaddockErrorOptions {
  cause?: unknown;
  /** Structured, machine-readable details (for example the list of config problems). */
  details?: unknown;
}

/** Every error Paddock raises on purpose. Match on `code`, not on the class. */
export class PaddockError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: PaddockErrorOptions = {}) {
    const spec: ErrorSpec = ERRORS[code];
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PaddockError';
    this.code = code;
    this.status = spec.status;
    this.expose = spec.expose;
    this.details = options.details;
  }

  /** The registry's advice for this error's code. */
  get fix(): string {
    return ERRORS[this.code].fix;
  }
}

export function isPaddockError(error: unknown, code?: ErrorCode): error is PaddockError {
  return error instanceof PaddockError && (code === undefined || error.code === code);
}
