export { createSinks } from './fanout.ts';
export type { AuditSinks, CreateSinksOptions } from './fanout.ts';
export type { SinkConfig } from './config.ts';
export type { SinkStats } from './runner.ts';
export type { TokenCredentialLike } from './azure-monitor.ts';
