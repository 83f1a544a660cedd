import { createLogger } from '../../core/index.ts';
import type { ReleaseRepository } from './release-repository.ts';

// The control plane's release loop: every tick it re-signs timestamps that have used half their
// lifetime (a supervisor refuses an expired one: that is the freeze-attack defence, so the
// service must keep them fresh) and tells connected supervisors about any channel whose
// timestamp changed (a new release, a promotion, a co-signature or a refresh), whoever wrote
// it: the reconciler, `paddock policy release` or `promote`.
//
//   const service = startReleaseService({ repository, notify: (channel, version) =>
//     channelServer.notifyRelease(channel, version) });
//   service.stop();

const log = createLogger('releases');

export interface ReleaseServiceOptions {
  readonly repository: ReleaseRepository;
  /** Tells supervisors following `channel` that its timestamp is now `version`. */
  readonly notify: (channel: string, version: number) => void;
  /** Tick interval, milliseconds. Default 5000. */
  readonly intervalMs?: number;
}

export interface ReleaseService {
  /** Runs one tick now (tests, and right after a release). */
  tick(): Promise<void>;
  stop(): void;
}

export function startReleaseService(options: ReleaseServiceOptions): ReleaseService {
  const seen = new Map<string, number>();
  let running: Promise<void> | undefined;
  const tick = async () => {
    try {
      await options.repository.refreshTimestamps();
      for (const status of options.repository.channels()) {
        if (status.timestampVersion === 0 || seen.get(status.channel) === status.timestampVersion) continue;
        seen.set(status.channel, status.timestampVersion);
        options.notify(status.channel, status.timestampVersion);
      }
    } catch (error) {
      log.error({ error: (error as Error).message }, 'release service tick failed');
    }
  };
  const run = () => {
    running ??= tick().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void run(), options.intervalMs ?? 5000);
  timer.unref();
  void run();
  return { tick: run, stop: () => clearInterval(timer) };
}
