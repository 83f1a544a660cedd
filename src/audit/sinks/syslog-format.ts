import type { OcsfEvent } from '../events/types.ts';
import { syslogSeverity, workspaceOf } from './severity.ts';

// RFC 5424 messages framed for TCP and TLS with octet counting (RFC 5425 §4.3, RFC 6587 §3.4.1):
//   MSGLEN SP SYSLOG-MSG
//   SYSLOG-MSG = <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] SP BOM MSG
// MSGID is the event code (`egress.denied`); STRUCTURED-DATA carries the ids a collector
// indexes on, under `paddock@32473` (32473 is the documentation enterprise number of RFC 5612:
// Paddock has no IANA number of its own); MSG is the OCSF event as JSON, UTF-8 with a BOM.

export const SD_ID = 'paddock@32473';
const BOM = '\u{FEFF}';

/** PRINTUSASCII (33..126) only, at most `max` characters; `-` (NILVALUE) when empty. */
function header(value: string | undefined, max: number): string {
  const clean = (value ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean.length > 0 ? clean : '-';
}

/** SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3). */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export interface SyslogIdentity {
  readonly facility: number;
  readonly hostname: string;
  readonly procId: string;
}

/** One RFC 5424 message (unframed). */
export function formatSyslogMessage(event: OcsfEvent, identity: SyslogIdentity): string {
  const pri = identity.facility * 8 + syslogSeverity(event);
  const timestamp = new Date(event.time).toISOString();
  const params: [string, string | number | undefined][] = [
    ['uid', event.metadata.uid],
    ['class_uid', event.class_uid],
    ['type_uid', event.type_uid],
    ['severity_id', event.severity_id],
    ['workspace', workspaceOf(event)],
    ['correlation_uid', event.metadata.correlation_uid],
  ];
  const sd = `[${SD_ID}${params
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${paramValue(String(value))}"`)
    .join('')}]`;
  return `<${pri}>1 ${timestamp} ${header(identity.hostname, 255)} paddock ${header(identity.procId, 128)} ${header(
    event.metadata.event_code,
    32,
  )} ${sd} ${BOM}${JSON.stringify(event)}`;
}

/** `MSGLEN SP SYSLOG-MSG`, MSGLEN counting octets (UTF-8 bytes), not characters. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
