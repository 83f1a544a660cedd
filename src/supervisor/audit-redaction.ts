import { createEventRedactor, type EventLogging, type EventRedactor } from '../audit/index.ts';
import type { SecretStore } from './egress/secret-store.ts';

// The supervisor's single exit redaction: every event its components produce (egress gateway,
// decision point, hook server, MCP gateway, reviews) passes through the redactor made here on
// its way to the audit log, spool or channel, before anything downstream (the control plane,
// SIEM sinks) can see it. Builders already redact the fields they know (URLs, argv, tool
// arguments); this pass covers every other field, and scrubs the values of the credentials
// the gateway can inject whatever the blueprint's logging mode says.

export interface SupervisorRedactionOptions {
  /** The blueprint's `logging` (toolArguments mode and redact patterns). */
  readonly logging?: EventLogging;
  /** Where credential values live; with `credentialNames`, their values are scrubbed too. */
  readonly secrets?: SecretStore;
  /** Secret names the session's services and MCP servers use. */
  readonly credentialNames?: Iterable<string>;
}

/**
 * The redactor for one session. Secrets the store does not hold are skipped (injection fails
 * closed for them anyway).
 * @example const redact = await supervisorEventRedactor({ logging: blueprint.spec.logging, secrets, credentialNames: ['github-pat'] });
 *   const record = (event) => writer.append(redact(event));
 */
export async function supervisorEventRedactor(options: SupervisorRedactionOptions): Promise<EventRedactor> {
  const values: string[] = [];
  if (options.secrets)
    for (const name of new Set(options.credentialNames ?? [])) {
      const value = await options.secrets.get(name).catch(() => undefined);
      if (value) values.push(value);
    }
  return createEventRedactor({
    ...(options.logging ? { logging: options.logging } : {}),
    secrets: values,
  });
}
