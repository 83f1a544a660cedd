import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import { loadOcsfSchema } from './schema-loader.ts';
import { validateOcsfEvent } from './schema-validator.ts';

// The runtime development check: with the OCSF source schema at hand, every event is validated
// before it is appended, so a builder bug stops the run instead of reaching a SIEM. Off in
// production (the schema is not shipped); the tests use the same validator on every builder.

/** Checks one event; throws PDK_AUDIT_EVENT_INVALID listing every problem. */
export type EventCheck = (event: unknown) => void;

/**
 * A check against the OCSF schema in `schemaDir` (loaded once, ~100 ms).
 * @example const checkEvent = createOcsfEventCheck('/opt/ocsf/1.8.0'); checkEvent(event);
 */
export function createOcsfEventCheck(schemaDir: string | URL): EventCheck {
  const schema = loadOcsfSchema(schemaDir);
  return (event) => {
    const problems = validateOcsfEvent(schema, event);
    if (problems.length === 0) return;
    const code = (event as { metadata?: { event_code?: unknown } } | null)?.metadata?.event_code;
    throw new PaddockError(
      'PDK_AUDIT_EVENT_INVALID',
      `audit event ${String(code ?? '(unnamed)')} is not valid OCSF ${schema.version}: ${problems.length} problem(s)`,
      { details: { problems } },
    );
  };
}

/** The check named by $PADDOCK_OCSF_SCHEMA_DIR, or undefined when it is not set. */
export function ocsfEventCheckFromEnv(env: NodeJS.ProcessEnv = process.env): EventCheck | undefined {
  const dir = env[ENV.ocsfSchemaDir];
  return dir ? createOcsfEventCheck(dir) : undefined;
}
