import { z } from 'zod';
import { PaddockError } from '../errors.ts';

// The workspace channel's wire protocol, shared by the supervisor (which dials) and the
// control plane (which listens). One WebSocket per workspace: JSON text frames carry control
// messages, binary frames carry terminal bytes. Terminals are multiplexed as numbered streams
// the control plane opens; each direction of a stream has a credit window (flow control), so
// a fast shell cannot flood a slow reader and a client cannot flood the shell.

export const CHANNEL_PROTOCOL_VERSION = 1;
/** The WebSocket path the control plane serves the channel on. */
export const CHANNEL_PATH = '/channel';
/** Largest frame either side accepts; a larger one closes the connection. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Largest terminal payload in one binary frame. */
export const MAX_DATA_CHUNK = 64 * 1024;
/** Bytes a sender may have unacknowledged per stream and direction. */
export const STREAM_WINDOW_BYTES = 256 * 1024;
/** Most terminal streams one workspace may have open at once. */
export const MAX_STREAMS = 64;
/** How often the supervisor sends a heartbeat; the control plane drops it after three missed. */
export const HEARTBEAT_MS = 10_000;

/** WebSocket close codes of the channel (4000–4999 are the application's). */
export const CLOSE = {
  protocol: 4002,
  revoked: 4003,
  replaced: 4004,
  heartbeat: 4005,
  shutdown: 4006,
} as const;

const streamId = z.int().min(1).max(0xffff_ffff);
const dimension = z.int().min(1).max(1000);
const text = (max: number) => z.string().min(1).max(max);

/** Messages the supervisor sends. */
export const supervisorMessage = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('hello'),
    workspaceId: text(128),
    supervisorVersion: text(64),
    protocol: z.literal(CHANNEL_PROTOCOL_VERSION),
  }),
  z.strictObject({ t: z.literal('heartbeat') }),
  z.strictObject({ t: z.literal('opened'), stream: streamId }),
  z.strictObject({ t: z.literal('open_failed'), stream: streamId, message: text(1000) }),
  z.strictObject({
    t: z.literal('exit'),
    stream: streamId,
    exitCode: z.int().min(0).max(255).nullable(),
    signal: text(32).nullable(),
  }),
  z.strictObject({
    t: z.literal('credit'),
    stream: streamId,
    bytes: z.int().min(1).max(STREAM_WINDOW_BYTES),
  }),
  /** The supervisor's answer to `rotate`: the public half of the key pair it generated. */
  z.strictObject({ t: z.literal('rotate_proposal'), kid: text(128), publicKey: text(4096) }),
]);

/** Messages the control plane sends. */
export const controlPlaneMessage = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('welcome'), heartbeatMs: z.int().min(1000) }),
  z.strictObject({
    t: z.literal('open'),
    stream: streamId,
    cols: dimension,
    rows: dimension,
    mode: z.enum(['shell', 'ssh']),
    userId: text(320),
    attachId: text(128),
  }),
  z.strictObject({ t: z.literal('resize'), stream: streamId, cols: dimension, rows: dimension }),
  z.strictObject({ t: z.literal('close'), stream: streamId }),
  z.strictObject({
    t: z.literal('credit'),
    stream: streamId,
    bytes: z.int().min(1).max(STREAM_WINDOW_BYTES),
  }),
  z.strictObject({ t: z.literal('rotate') }),
  z.strictObject({ t: z.literal('rotate_commit'), kid: text(128) }),
]);

export type SupervisorMessage = z.infer<typeof supervisorMessage>;
export type ControlPlaneMessage = z.infer<typeof controlPlaneMessage>;

function protocolError(message: string): PaddockError {
  return new PaddockError('PDK_CHANNEL_PROTOCOL', message);
}

/** Parses a text frame with `schema`; PDK_CHANNEL_PROTOCOL when it is not one of its messages. */
export function decodeMessage<T>(schema: z.ZodType<T>, frame: string): T {
  if (frame.length > MAX_FRAME_BYTES) throw protocolError(`text frame of ${frame.length} bytes is too large`);
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    throw protocolError('text frame is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw protocolError(`unexpected message: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export function encodeMessage(message: SupervisorMessage | ControlPlaneMessage): string {
  return JSON.stringify(message);
}

const DATA_FRAME = 1;
const HEADER_BYTES = 5;

/** A binary frame: type byte 1, the stream id (uint32, big-endian), then the bytes. */
export function encodeData(stream: number, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
  frame.writeUInt8(DATA_FRAME, 0);
  frame.writeUInt32BE(stream, 1);
  frame.set(data, HEADER_BYTES);
  return frame;
}

export function decodeData(frame: Buffer): { stream: number; data: Buffer } {
  if (frame.length < HEADER_BYTES || frame.readUInt8(0) !== DATA_FRAME)
    throw protocolError('binary frame is not a data frame');
  if (frame.length - HEADER_BYTES > MAX_DATA_CHUNK)
    throw protocolError(`data frame of ${frame.length - HEADER_BYTES} bytes exceeds ${MAX_DATA_CHUNK}`);
  const stream = frame.readUInt32BE(1);
  if (stream === 0) throw protocolError('data frame for stream 0');
  return { stream, data: frame.subarray(HEADER_BYTES) };
}

/** Splits bytes into chunks of at most MAX_DATA_CHUNK. */
export function* chunks(data: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += MAX_DATA_CHUNK) yield data.subarray(at, at + MAX_DATA_CHUNK);
}
