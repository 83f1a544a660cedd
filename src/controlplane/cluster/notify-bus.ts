import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';

// Fan-out between control-plane replicas through PostgreSQL LISTEN/NOTIFY. A client (a
// reviewer's console, a supervisor's channel) is connected to one replica; an event produced
// on another (a review decided, a message for a workspace) is published here and every replica
// receives it and delivers it to the clients it holds. NOTIFY is delivered on commit and only
// to live sessions: events are hints to re-read the store, never the only copy of anything.

const log = createLogger('cluster');

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; keep room for the envelope. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7900;

/** Topics replicas use. */
export const CLUSTER_TOPICS = {
  /** A review request was created or decided: `{ reviewId, status }`. */
  reviews: 'paddock_reviews',
  /** A message for a workspace's supervisor channel, wherever it is connected: `{ workspaceId, ... }`. */
  channel: 'paddock_channel',
  /** The leader wrote a channel's policy release files to the store: `{ channel }` (each replica pulls and tells its supervisors). */
  releases: 'paddock_releases',
} as const;

const TOPIC = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ClusterMessage {
  readonly topic: string;
  /** The replica that published it (a replica may skip its own). */
  readonly origin: string;
  readonly body: unknown;
}

export interface ClusterBusOptions {
  /** A postgres:// connection string (never logged). */
  readonly url: string;
  /** This replica's id. Default a random UUID. */
  readonly replicaId?: string;
  /** Delay before reconnecting the listening session. Default 500 ms. */
  readonly reconnectMs?: number;
}

type Handler = (message: ClusterMessage) => void;

export class ClusterBus {
  readonly replicaId: string;
  readonly #options: ClusterBusOptions;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #publisher: pg.Pool;
  #listener: pg.Client | undefined;
  #closed = false;
  #reconnect: NodeJS.Timeout | undefined;

  constructor(options: ClusterBusOptions) {
    this.#options = options;
    this.replicaId = options.replicaId ?? randomUUID();
    this.#publisher = new pg.Pool({ connectionString: options.url, max: 2, application_name: 'paddock-bus' });
    this.#publisher.on('error', (error) =>
      log.warn({ error: error.message }, 'bus publisher connection failed'),
    );
  }

  /** Opens the listening session. */
  async start(): Promise<void> {
    await this.#listen();
  }

  /** Calls `handler` for every message on `topic` (from every replica, this one included). Returns an unsubscribe. */
  async subscribe(topic: string, handler: Handler): Promise<() => void> {
    checkTopic(topic);
    let handlers = this.#handlers.get(topic);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(topic, handlers);
      await this.#listener?.query(`LISTEN ${topic}`);
    }
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** Publishes `body` (JSON) to every replica; PDK_CLUSTER_NOTIFY when it is too big or the database is unreachable. */
  async publish(topic: string, body: unknown): Promise<void> {
    checkTopic(topic);
    const payload = JSON.stringify({ origin: this.replicaId, body });
    if (Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES)
      throw new PaddockError(
        'PDK_CLUSTER_NOTIFY',
        `message on ${topic} is ${Buffer.byteLength(payload)} bytes, over ${MAX_NOTIFY_PAYLOAD_BYTES}: publish an id and read the record`,
      );
    try {
      await this.#publisher.query('SELECT pg_notify($1, $2)', [topic, payload]);
    } catch (error) {
      throw new PaddockError(
        'PDK_CLUSTER_NOTIFY',
        `publish on ${topic} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#publisher.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'paddock-bus-listen',
      keepAlive: true,
    });
    const retry = (reason: string) => {
      if (this.#listener !== client || this.#closed) return;
      this.#listener = undefined;
      log.warn({ reason }, 'bus listener lost; reconnecting');
      void client.end().catch(() => undefined);
      this.#reconnect = setTimeout(() => {
        this.#listen().catch((error: Error) => retry(error.message));
      }, this.#options.reconnectMs ?? 500);
    };
    client.on('error', (error) => retry(error.message));
    client.on('end', () => retry('connection ended'));
    client.on('notification', (notification) => this.#deliver(notification.channel, notification.payload));
    this.#listener = client;
    await client.connect();
    for (const topic of this.#handlers.keys()) await client.query(`LISTEN ${topic}`);
  }

  #deliver(topic: string, payload: string | undefined): void {
    let parsed: { origin?: unknown; body?: unknown };
    try {
      parsed = JSON.parse(payload ?? '') as typeof parsed;
    } catch {
      log.warn({ topic }, 'ignored a malformed cluster message');
      return;
    }
    const message: ClusterMessage = { topic, origin: String(parsed.origin), body: parsed.body };
    for (const handler of this.#handlers.get(topic) ?? []) {
      try {
        handler(message);
      } catch (error) {
        log.error({ topic, error: (error as Error).message }, 'cluster message handler failed');
      }
    }
  }
}

function checkTopic(topic: string): void {
  // LISTEN takes an identifier, not a parameter: only plain lowercase names get near SQL.
  if (!TOPIC.test(topic))
    throw new PaddockError('PDK_CLUSTER_NOTIFY', `topic ${JSON.stringify(topic)} must match ${TOPIC.source}`);
}
