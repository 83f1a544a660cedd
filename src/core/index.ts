export { ERRORS, PaddockError, isPaddockError } from './errors.ts';
export type { ErrorCode, ErrorSpec, PaddockErrorOptions } from './errors.ts';
export { PRODUCT_NAME, PRODUCT_VENDOR, PRODUCT_VERSION } from './version.ts';
export { systemClock, parseDurationMs } from './clock.ts';
export type { Clock } from './clock.ts';
export { newId } from './ids.ts';
export { ENV } from './env.ts';
export { createLogger } from './log.ts';
export type { Logger, LogFields, LogLevel } from './log.ts';
