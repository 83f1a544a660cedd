export * from './sandbox/index.ts';
export * from './reviews/index.ts';
export * from './mcp/index.ts';
export * from './egress/index.ts';
export * from './pdp/index.ts';
export * from './hooks/index.ts';
export * from './standalone/index.ts';
