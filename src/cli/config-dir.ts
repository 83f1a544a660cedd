import { resolve } from 'node:path';
import { ENV } from '../core/env.ts';
import type { CommandContext } from './command.ts';

/** The desired-state directory a command reads: --config, else $PADDOCK_CONFIG, else the current directory. */
export function resolveConfigDir(ctx: CommandContext, explicit?: string): string {
  const value = explicit ?? (ctx.values['config'] as string | undefined) ?? ctx.env[ENV.config] ?? ctx.cwd;
  return resolve(ctx.cwd, value);
}
