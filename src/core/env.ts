// Every environment variable Paddock reads is named here, once.
export const ENV = {
  /** Desired-state directory used when --config is not given. */
  config: 'PADDOCK_CONFIG',
  /** Data directory (stores, spools, recordings) used when --data-dir is not given. */
  dataDir: 'PADDOCK_DATA_DIR',
  /** Log level: error | warn | info | debug. Default info. */
  logLevel: 'PADDOCK_LOG',
  /** PostgreSQL connection string for the store (tests: set by the test runner). */
  databaseUrl: 'PADDOCK_DATABASE_URL',
  /** The control plane's public origin for `paddock serve` (e.g. https://paddock.example.com) when --public-url is not given. */
  publicUrl: 'PADDOCK_PUBLIC_URL',
  /** Development only: an OCSF source schema directory; when set, every audit event is validated before it is written. */
  ocsfSchemaDir: 'PADDOCK_OCSF_SCHEMA_DIR',
  /** The MCP gateway's unix socket that `paddock mcp-shim` connects to. Default /run/paddock/mcp.sock. */
  mcpSocket: 'PADDOCK_MCP_SOCKET',
  /** Where each `paddock run` serves its review socket and `paddock review` looks. Default /run/paddock/reviews. */
  reviewDir: 'PADDOCK_REVIEW_DIR',
  /** Tests only: `1` rewrites golden files (test/providers/kubevirt/golden) instead of comparing with them. */
  updateGolden: 'PADDOCK_UPDATE_GOLDEN',
  /** PostgreSQL server URL for tests; set by scripts/test.ts, which starts a throwaway cluster. */
  testDatabaseUrl: 'PADDOCK_TEST_DATABASE_URL',
  /** The control plane's URL for client commands (`paddock connect`); overrides the one `paddock login` saved. */
  server: 'PADDOCK_SERVER',
  /** A control-plane session token for client commands; overrides the one `paddock login` saved. */
  token: 'PADDOCK_TOKEN',
  /** Base of per-user configuration (the saved session is $XDG_CONFIG_HOME/paddock/session.json). Default ~/.config. */
  xdgConfigHome: 'XDG_CONFIG_HOME',
} as const;
