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
  PDK_AUDIT_EVENT_INVALID: {
    message: 'audit event is invalid',
    fix: 'This is a bug in the event builder that produced it; report it with the event class.',
    status: 500,
    expose: false,
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
