import { readFileSync } from 'node:fs';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { PaddockError } from '../../core/errors.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { SyslogSinkConfig } from './config.ts';
import { sinkUnavailable } from './failure.ts';
import type { SinkTransport } from './runner.ts';
import { formatSyslogMessage, frameOctetCounted, type SyslogIdentity } from './syslog-format.ts';

// Syslog over one long-lived TCP or TLS connection, octet-counted frames. A batch counts as
// delivered once the kernel took all of it; syslog has no acknowledgement, so a collector
// that dies with bytes in flight can lose them (docs/audit-sinks.md). A broken connection is
// dropped and redialled on the next attempt.

const CONNECT_TIMEOUT_MS = 10_000;

export class SyslogTransport implements SinkTransport {
  private readonly config: SyslogSinkConfig;
  private readonly ca: string | undefined;
  private readonly identity: SyslogIdentity;
  private socket: Socket | undefined;

  constructor(config: SyslogSinkConfig) {
    this.config = config;
    try {
      this.ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
    } catch (error) {
      throw new PaddockError(
        'PDK_AUDIT_SINK_CONFIG',
        `audit sink ${config.name}: cannot read caFile ${config.caFile}: ${(error as Error).message}`,
      );
    }
    this.identity = { facility: config.facility ?? 13, hostname: hostname(), procId: String(process.pid) };
  }

  async deliver(events: readonly OcsfEvent[], signal: AbortSignal): Promise<undefined> {
    const socket = await this.connection(signal);
    const frames = Buffer.concat(
      events.map((event) => frameOctetCounted(formatSyslogMessage(event, this.identity))),
    );
    await new Promise<void>((resolve, reject) => {
      socket.write(frames, (error) => {
        if (!error) return resolve();
        this.drop();
        reject(sinkUnavailable(this.config.name, error.message));
      });
    });
    return undefined;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 2000).unref();
    });
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connection(signal: AbortSignal): Promise<Socket> {
    const live = this.socket;
    if (live && !live.destroyed && live.writable) return Promise.resolve(live);
    this.drop();
    const { host, port, name } = this.config;
    return new Promise<Socket>((resolve, reject) => {
      const socket: Socket = this.config.tls
        ? tlsConnect({
            host,
            port,
            ...(this.ca ? { ca: this.ca } : {}),
            ...(this.config.serverName
              ? { servername: this.config.serverName }
              : isIP(host) === 0
                ? { servername: host }
                : {}),
          })
        : tcpConnect({ host, port });
      const ready = this.config.tls ? 'secureConnect' : 'connect';
      const fail = (error: Error) => {
        cleanup();
        socket.destroy();
        reject(sinkUnavailable(name, `cannot connect to ${host}:${port}: ${error.message}`));
      };
      const onAbort = () => fail(new Error('aborted'));
      const timer = setTimeout(() => fail(new Error('connect timed out')), CONNECT_TIMEOUT_MS);
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('error', fail);
        signal.removeEventListener('abort', onAbort);
      };
      socket.once('error', fail);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once(ready, () => {
        cleanup();
        socket.setKeepAlive(true, 30_000);
        // A collector may hang up at any time: forget the socket so the next batch redials.
        socket.on('error', () => {});
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        // Anything the collector sends is ignored (syslog is one-way).
        socket.resume();
        this.socket = socket;
        resolve(socket);
      });
    });
  }
}
