import type { OcsfEvent } from '../events/types.ts';

// OCSF severity_id (0 Unknown, 1 Informational … 5 Critical, 6 Fatal, 99 Other) in the scales
// the wire formats use. Unknown and Other map to the neutral middle of each scale.

/** RFC 5424 severity: 0 Emergency … 7 Debug. */
export function syslogSeverity(event: OcsfEvent): number {
  switch (event.severity_id) {
    case 1:
      return 6; // Informational
    case 2:
      return 5; // Notice
    case 3:
      return 4; // Warning
    case 4:
      return 3; // Error
    case 5:
      return 2; // Critical
    case 6:
      return 1; // Alert
    default:
      return 5; // Notice
  }
}

/** OpenTelemetry SeverityNumber (1..24; 9 INFO, 13 WARN, 17 ERROR, 21 FATAL) and its text. */
export function otelSeverity(event: OcsfEvent): { number: number; text: string } {
  switch (event.severity_id) {
    case 1:
      return { number: 9, text: 'INFO' };
    case 2:
      return { number: 10, text: 'INFO2' };
    case 3:
      return { number: 13, text: 'WARN' };
    case 4:
      return { number: 17, text: 'ERROR' };
    case 5:
      return { number: 21, text: 'FATAL' };
    case 6:
      return { number: 24, text: 'FATAL4' };
    default:
      return { number: 0, text: 'UNSPECIFIED' };
  }
}

/** The OCSF class name (`HTTP Activity`), or the class uid when an event lacks it. */
export function className(event: OcsfEvent): string {
  const name = event['class_name'];
  return typeof name === 'string' && name.length > 0 ? name : String(event.class_uid);
}

/** The workspace an event happened in (`device.uid`), when it names one. */
export function workspaceOf(event: OcsfEvent): string | undefined {
  const device = event['device'] as { uid?: unknown } | undefined;
  return typeof device?.uid === 'string' ? device.uid : undefined;
}
