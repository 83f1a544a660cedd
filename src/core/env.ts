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
} as const;
