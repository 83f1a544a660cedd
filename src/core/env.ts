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
  /** Development only: an OCSF source schema directory; when set, every audit event is validated before it is written. */
  ocsfSchemaDir: 'PADDOCK_OCSF_SCHEMA_DIR',
  /** The MCP gateway's unix socket that `paddock mcp-shim` connects to. Default /run/paddock/mcp.sock. */
  mcpSocket: 'PADDOCK_MCP_SOCKET',
  /** PostgreSQL server URL for tests; set by scripts/test.ts, which starts a throwaway cluster. */
  testDatabaseUrl: 'PADDOCK_TEST_DATABASE_URL',
} as const;
