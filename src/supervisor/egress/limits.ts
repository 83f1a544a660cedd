// The gateway's limits, with their defaults and bounds in one place.

export interface EgressLimits {
  /** Largest request head (request line and headers) accepted, bytes. Default 32 KiB; 1 KiB..1 MiB. Larger: 431 and close. */
  readonly maxHeaderBytes: number;
  /** Most header fields in one request head. Default 128. */
  readonly maxHeaderCount: number;
  /** Time allowed to receive a complete request head, milliseconds. Default 30 s (slow-loris bound). */
  readonly headersTimeoutMs: number;
  /** Time allowed to receive the TLS ClientHello on a tunnel or the 443 listener, milliseconds. Default 10 s. */
  readonly clientHelloTimeoutMs: number;
  /** Largest TLS ClientHello accepted, bytes. Default 64 KiB. */
  readonly maxClientHelloBytes: number;
  /** A tunnel or keep-alive connection with no traffic either way for this long is closed, milliseconds. Default 5 min. */
  readonly idleTimeoutMs: number;
  /** Time allowed to connect to one upstream address, milliseconds. Default 10 s. */
  readonly connectTimeoutMs: number;
  /** Open client connections per sandbox (all listeners together). Default 512. More are refused. */
  readonly maxConnections: number;
  /** How much of a request body is scanned for misdirected credential placeholders, bytes. Default 16 KiB. */
  readonly scanBodyBytes: number;
  /**
   * Largest body of a review-gated write, bytes: the gateway holds the whole body to bind the
   * review to its digest. Default 256 KiB; 0..16 MiB. Larger: 413 and close.
   */
  readonly maxReviewBodyBytes: number;
}

export const DEFAULT_LIMITS: EgressLimits = Object.freeze({
  maxHeaderBytes: 32 * 1024,
  maxHeaderCount: 128,
  headersTimeoutMs: 30_000,
  clientHelloTimeoutMs: 10_000,
  maxClientHelloBytes: 64 * 1024,
  idleTimeoutMs: 5 * 60_000,
  connectTimeoutMs: 10_000,
  maxConnections: 512,
  scanBodyBytes: 16 * 1024,
  maxReviewBodyBytes: 256 * 1024,
});

/** Merges overrides onto the defaults, refusing values outside their bounds. */
export function resolveLimits(overrides: Partial<EgressLimits> = {}): EgressLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  const bounds: Record<keyof EgressLimits, [number, number]> = {
    maxHeaderBytes: [1024, 1024 * 1024],
    maxHeaderCount: [8, 1024],
    headersTimeoutMs: [10, 600_000],
    clientHelloTimeoutMs: [10, 600_000],
    maxClientHelloBytes: [1024, 1024 * 1024],
    idleTimeoutMs: [10, 24 * 3_600_000],
    connectTimeoutMs: [10, 600_000],
    maxConnections: [1, 65_536],
    scanBodyBytes: [0, 1024 * 1024],
    maxReviewBodyBytes: [0, 16 * 1024 * 1024],
  };
  for (const [key, [min, max]] of Object.entries(bounds) as [keyof EgressLimits, [number, number]][]) {
    const value = limits[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`egress limit ${key}=${value} is outside ${min}..${max}`);
    }
  }
  return Object.freeze(limits);
}
