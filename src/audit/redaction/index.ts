export { createEventRedactor } from './event-redaction.ts';
export type { EventLogging, EventRedactionOptions, EventRedactor } from './event-redaction.ts';
