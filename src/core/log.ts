import { ENV } from './env.ts';

// Structured diagnostics on stderr: stdout belongs to command output.
// Fields first, then a short lowercase message. Callers pass only the fields they
// mean to log; never whole objects, headers or tokens.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  debug(fields: LogFields, message: string): void;
}

export function createLogger(
  component: string,
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const configured = (options.level ?? process.env[ENV.logLevel] ?? 'info') as LogLevel;
  const threshold = RANK[configured] ?? RANK.info;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: LogLevel) => (fields: LogFields, message: string) => {
    if (RANK[level] > threshold) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, component, ...fields, msg: message })}\n`,
    );
  };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}
