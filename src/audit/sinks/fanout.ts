import { isAbsolute, join, resolve } from 'node:path';
import { type Clock, systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import type { OcsfEvent } from '../events/types.ts';
import { AzureMonitorTransport, azureCredential, type TokenCredentialLike } from './azure-monitor.ts';
import { deliverySettings, type SinkConfig } from './config.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { JsonlTransport } from './jsonl.ts';
import { OtlpTransport } from './otlp.ts';
import { type SinkStats, SinkRunner, type SinkTransport } from './runner.ts';
import { SplunkHecTransport } from './splunk-hec.ts';
import { SyslogTransport } from './syslog.ts';

// Every configured sink behind one `enqueue`. The caller hands each event here after it is
// stored (hash-chained, durable); each sink then delivers on its own, so a slow or dead
// collector delays only itself and never the enforcement path that produced the event.

export interface CreateSinksOptions {
  /** Relative sink paths and the default dead-letter directory live under it. */
  readonly dataDir: string;
  /** Where token variables are read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /** Receives audit-system events (a JSONL sink's rotation): store them like any other event. */
  readonly onSystemEvent?: (event: OcsfEvent) => void;
  /** Azure sinks by name: a credential to use instead of building one from @azure/identity. */
  readonly azureCredentials?: Readonly<Record<string, TokenCredentialLike>>;
  /** Random numbers for backoff jitter (tests). Default Math.random. */
  readonly random?: () => number;
}

export interface AuditSinks {
  /** Queues one event on every sink. Synchronous and O(sinks); never throws, never waits. */
  enqueue(event: OcsfEvent): void;
  /** Per-sink counters, by sink name. */
  stats(): Record<string, SinkStats>;
  /** Flushes every sink; what is not delivered by `deadlineMs` goes to the dead-letter files. */
  close(deadlineMs?: number): Promise<void>;
}

/** Default close deadline. */
const CLOSE_DEADLINE_MS = 10_000;

function underDataDir(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dataDir, path);
}

async function transportFor(
  config: SinkConfig,
  options: CreateSinksOptions,
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
): Promise<SinkTransport> {
  switch (config.type) {
    case 'jsonl':
      return new JsonlTransport(config, underDataDir(options.dataDir, config.path), clock, (event) =>
        options.onSystemEvent?.(event),
      );
    case 'syslog':
      return new SyslogTransport(config);
    case 'splunk-hec':
      return new SplunkHecTransport(config, env);
    case 'otlp':
      return new OtlpTransport(config, env, () => clock.now());
    case 'azure-monitor':
      return new AzureMonitorTransport(
        config,
        options.azureCredentials?.[config.name] ?? (await azureCredential(config, env)),
        () => clock.now(),
      );
  }
}

/**
 * Starts every sink in `configs` (paddock.yaml's `spec.audit.sinks`). Throws
 * PDK_AUDIT_SINK_CONFIG when a sink cannot start (an unset token variable, an unreadable CA).
 * @example const sinks = await createSinks(platform.spec.audit.sinks, { dataDir });
 *   store.onAppended((event) => sinks.enqueue(event));
 */
export async function createSinks(
  configs: readonly SinkConfig[],
  options: CreateSinksOptions,
): Promise<AuditSinks> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const log = createLogger('audit-sinks');
  const runners: SinkRunner[] = [];
  for (const config of configs) {
    const settings = deliverySettings(config.delivery);
    const deadLetterPath = settings.deadLetter
      ? underDataDir(options.dataDir, settings.deadLetter)
      : join(options.dataDir, 'audit', 'dead-letter', `${config.name}.jsonl`);
    runners.push(
      new SinkRunner({
        name: config.name,
        type: config.type,
        transport: await transportFor(config, options, env, clock),
        settings,
        deadLetter: new DeadLetterFile(deadLetterPath, config.name, clock),
        log,
        ...(options.random ? { random: options.random } : {}),
      }),
    );
  }
  return {
    enqueue(event) {
      for (const runner of runners) runner.enqueue(event);
    },
    stats() {
      return Object.fromEntries(runners.map((runner) => [runner.name, runner.stats()]));
    },
    async close(deadlineMs = CLOSE_DEADLINE_MS) {
      await Promise.all(runners.map((runner) => runner.close(deadlineMs)));
    },
  };
}
