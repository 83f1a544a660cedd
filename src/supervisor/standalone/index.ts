export { runStandalone } from './standalone-run.ts';
export type { StandaloneRunOptions, StandaloneRunResult } from './standalone-run.ts';
