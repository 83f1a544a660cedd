// The file the local provider hands a workspace supervisor (`--config FILE`, mode 0600): where
// its identity is, where to dial, and what to run. The provider and the supervisor never
// import each other, so the format lives here.

export interface WorkspaceSupervisorConfig {
  readonly workspaceId: string;
  /** The control plane's channel: `ws://127.0.0.1:PORT/channel` or `ws+unix:/path/to.sock:/channel`. */
  readonly channelUrl: string;
  /** The identity file (core/channel/identity.ts); rotation replaces it in place. */
  readonly identityFile: string;
  /** Desired-state directory (paddock.yaml, blueprints/, profiles/). */
  readonly configDir: string;
  /** The blueprint every terminal's sandbox follows (a metadata.name in configDir). */
  readonly blueprint: string;
  /** The profile whose limits bound the sandbox. */
  readonly profile: string;
  /** Host directory shown as /workspace (persistent). */
  readonly workdir: string;
  /** Host directory shown as the sandbox user's home (persistent). */
  readonly homeDir: string;
  /** Root-owned state directory for the sandbox launcher (uid slots, /etc mirror). Default the launcher's. */
  readonly stateDir?: string;
  /**
   * Names the supervisor's state directory (its parent): the audit spool is `audit-spool/`
   * beside this path (shipped to the control plane), the SSH host key `ssh/`, paddock-try
   * `tools/`; with `hostSsh` the supervisor's client key `host-ssh/`, with `hostEgress` the
   * workspace CA `egress-ca/`. The file itself is no longer written.
   */
  readonly auditLog: string;
  /**
   * The provider's pid: once the supervisor's parent is another, the provider is gone and it
   * exits. 0 where a service wrapper starts the supervisor (Windows guests): the wrapper names
   * itself on the command line (`--provider-pid`).
   */
  readonly providerPid: number;
  /**
   * Terminals through the host's own OpenSSH server on loopback instead of a Paddock sandbox
   * (Windows guests, where the sandbox does not exist: docs/windows.md). Every terminal logs in
   * as one unprivileged local account: the pty mode through the host's OpenSSH client with the
   * supervisor's own key, the ssh mode relayed to the server byte for byte. Absent: every
   * terminal in a new Linux sandbox.
   */
  readonly hostSsh?: HostSshConfig;
  /**
   * The workspace's egress gateway on the host's loopback (Windows guests, with `hostSsh`): the
   * explicit proxy and SOCKS5 listeners the agent's account is pointed at, its only way out (a
   * firewall rule blocks the account's every other connection). Absent with `hostSsh`: the
   * account has no network at all. Ignored without `hostSsh` (the sandbox has its own gateway).
   */
  readonly hostEgress?: HostEgressConfig;
  /**
   * Signed policy releases (docs/releases.md): the channel this workspace follows, the file
   * holding that channel's root.json it was provisioned with (its trust anchor), and the
   * supervisor's private directory for trusted metadata and the last good bundle. With it,
   * terminals enforce the released bundle (deny-all until one verifies); without it, the
   * blueprint compiled from configDir.
   */
  readonly releases?: { readonly channel: string; readonly rootFile: string; readonly stateDir: string };
  /**
   * The encrypted secret store (docs/egress.md) the egress and MCP gateways inject the
   * blueprint's service `credential`s from: the store file and its key file, absolute paths,
   * both outside `workdir` and `homeDir` (the supervisor refuses to start otherwise, as it does
   * when the store cannot be decrypted). Absent: no store, and requests to credentialed
   * services fail closed (PDK_SECRET_NOT_FOUND). Only the local provider sets it.
   */
  readonly secrets?: { readonly file: string; readonly keyFile: string };
}

/** The host's OpenSSH server that terminals log in to (`WorkspaceSupervisorConfig.hostSsh`). */
export interface HostSshConfig {
  /** The server's port on 127.0.0.1 (it listens on loopback only). */
  readonly port: number;
  /** The unprivileged local account every terminal logs in as. */
  readonly account: string;
  /** The server's ed25519 host public key (OpenSSH `.pub`): announced to the broker, pinned by the client. */
  readonly hostKeyFile: string;
  /** The OpenSSH client (`ssh`); `ssh-keygen` is beside it. */
  readonly sshClient: string;
  /** Where the supervisor writes its own public key; the server's AuthorizedKeysFile names it. */
  readonly authorizedKeysFile: string;
}

/** The egress gateway on the host's loopback (`WorkspaceSupervisorConfig.hostEgress`). */
export interface HostEgressConfig {
  /** The explicit HTTP proxy (absolute-form and CONNECT) on 127.0.0.1: HTTP_PROXY/HTTPS_PROXY name it. */
  readonly proxyPort: number;
  /** The SOCKS5 listener on 127.0.0.1: ALL_PROXY names it. */
  readonly socksPort: number;
  /**
   * Where the CA bundle (PEM: the public roots, then the workspace CA; never its key) is written
   * at every start, replaced whole, readable by the agent's account. Its directory must be
   * readable by that account; the supervisor creates it when missing.
   */
  readonly caCertFile: string;
}
