import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import type { ReviewView } from '../../policy/index.ts';
import { type ReviewSocketClient, reviewSocketClient } from './client.ts';
import { REVIEW_SOCKET_NAME, REVIEW_SOCKETS_DIR } from './protocol.ts';

// Every `paddock run` with review gates serves its own review socket (concurrent runs never
// share one), so `paddock review` without --socket asks them all: `list` gathers the requests
// of every live run, and an answer goes to the one run whose queue holds that review id.

/** The review sockets under `dir` (`DIR/RUN/review.sock`), sorted. A missing dir has none. */
export function reviewSocketsIn(dir: string = REVIEW_SOCKETS_DIR): string[] {
  let runs: string[];
  try {
    runs = readdirSync(dir);
  } catch {
    return [];
  }
  return runs
    .map((run) => join(dir, run, REVIEW_SOCKET_NAME))
    .filter((path) => {
      try {
        return lstatSync(path).isSocket();
      } catch {
        return false;
      }
    })
    .sort();
}

function noRuns(dir: string): PaddockError {
  return new PaddockError(
    'PDK_REVIEW_UNAVAILABLE',
    `no review socket under ${dir}: is a paddock run with review gates running? (or name one with --socket)`,
  );
}

/** A socket left by a run that died: skipped, as nobody can answer there. */
const gone = (error: unknown) => isPaddockError(error, 'PDK_REVIEW_UNAVAILABLE');

/**
 * One client over every run's review socket under `dir`.
 * @example await reviewSocketsClient().list({ status: 'pending' }) // the pending requests of every run
 */
export function reviewSocketsClient(dir: string = REVIEW_SOCKETS_DIR): ReviewSocketClient {
  const clients = () => {
    const paths = reviewSocketsIn(dir);
    if (paths.length === 0) throw noRuns(dir);
    return paths.map((path) => reviewSocketClient({ path }));
  };
  /** The client of the run whose queue holds `id`. */
  const holding = async (id: string): Promise<ReviewSocketClient> => {
    for (const client of clients()) {
      try {
        await client.show(id);
        return client;
      } catch (error) {
        if (gone(error) || isPaddockError(error, 'PDK_REVIEW_NOT_FOUND')) continue;
        throw error;
      }
    }
    throw new PaddockError('PDK_REVIEW_NOT_FOUND', `no running paddock run holds review ${id}`);
  };
  return {
    async list(filter) {
      const all: ReviewView[] = [];
      let reached = 0;
      for (const client of clients()) {
        try {
          all.push(...(await client.list(filter)));
          reached++;
        } catch (error) {
          if (!gone(error)) throw error;
        }
      }
      if (reached === 0) throw noRuns(dir);
      return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    },
    show: async (id) => (await holding(id)).show(id),
    answer: async (verdict, id, answer) => (await holding(id)).answer(verdict, id, answer),
  };
}
