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
/** Most chain records in one `audit_batch` (the spool's shipping limit, src/audit/spool/protocol.ts). */
export const MAX_AUDIT_BATCH_EVENTS = 2000;
/** Most bytes of chain records (JSON) in one `audit_batch`. */
export const MAX_AUDIT_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Largest frame either side accepts; a larger one closes the connection. An `audit_batch` is
 * the largest message: its records plus the envelope. Every other message is bounded by its
 * schema far below this.
 */
export const MAX_FRAME_BYTES = MAX_AUDIT_BATCH_BYTES + 64 * 1024;
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
/** A review request's number, chosen by the supervisor; echoed in the answer. */
const reviewRequestId = z.int().min(1).max(0xffff_ffff);
/** Review requests one connection may have waiting for an answer at once. */
export const MAX_PENDING_REVIEWS = 32;
const dimension = z.int().min(1).max(1000);
const text = (max: number) => z.string().min(1).max(max);

const name = text(256);
/** JSON data of at most `max` characters once serialised (arguments, context). */
const jsonData = (max: number) =>
  z
    .json()
    .refine((value) => JSON.stringify(value).length <= max, `must be JSON of at most ${max} characters`);

/**
 * A call the supervisor's PDP answered `review` (policy's HeldCall as data: no decisionEvent,
 * which stays with the supervisor). The control plane only accepts it for the connection's own
 * workspace and a user it opened a terminal for.
 */
export const heldCallMessage = z.strictObject({
  requester: z.strictObject({ id: text(320) }),
  workspaceId: text(128),
  sessionId: text(128),
  harness: text(64).optional(),
  blueprint: z.strictObject({ name, version: name }),
  bundle: z.strictObject({ id: name, version: name }),
  action: text(64),
  resource: text(8192),
  tool: text(512),
  arguments: jsonData(128 * 1024).optional(),
  ruleIds: z.array(text(256)).max(64),
  gate: z.strictObject({
    reviewers: z.array(text(320)).max(64),
    minApprovals: z.int().min(1).max(10),
    timeout: text(32),
    onTimeout: z.enum(['deny', 'allow']),
  }),
  logging: z
    .strictObject({
      toolArguments: z.enum(['full', 'redacted', 'none']),
      redact: z.array(text(1024)).max(64),
    })
    .optional(),
  context: z.record(text(128), jsonData(32 * 1024)).optional(),
});

/** The review queue's answer (policy's GateAnswer). */
export const gateAnswerMessage = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('approved'), reviewId: text(128), message: text(4000) }),
  z.strictObject({
    status: z.literal('pending'),
    reviewId: text(128),
    message: text(4000),
    expiresAt: z.iso.datetime(),
  }),
  z.strictObject({ status: z.literal('denied'), reviewId: text(128), message: text(4000) }),
]);

/** One gate step the queue decided (policy's GateDecision without the review id, which the answer has). */
export const gateStepMessage = z.strictObject({
  decision: z.enum(['allow', 'deny', 'review']),
  reasonCode: text(64),
  reason: text(4000),
});

/** A policy release channel's name (paddock.yaml `spec.releases.channels[].name`). */
const releaseChannel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
/** A release fetch's number, chosen by the supervisor; echoed in every answer. */
const releaseRequestId = z.int().min(1).max(0xffff_ffff);
/** Release fetches one connection may have in flight. */
export const MAX_PENDING_RELEASE_FETCHES = 8;
/** Largest release file chunk in one message, bytes before base64 (the frame limit bounds the encoded form). */
export const RELEASE_CHUNK_BYTES = 96 * 1024;
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** What a supervisor tells the control plane it enforces (docs/releases.md). */
export const bundleAttestationMessage = z.strictObject({
  channel: releaseChannel,
  /** The blueprint whose bundle the workspace follows (its release target is `NAME.json`). */
  blueprint: releaseChannel,
  /** `applied`: a verified bundle is in force; `deny-all`: none is, everything is denied. */
  state: z.enum(['applied', 'deny-all']),
  bundle: z.strictObject({ id: name, version: name, hash: sha256Hex }).nullable(),
  /** The channel release (targets version) the bundle came from; 0 when none. */
  release: z.int().min(0).max(0xffff_ffff),
  commit: text(128).nullable(),
  /** The last update's failure, when the newest release could not be applied. */
  error: z.strictObject({ code: text(64), message: text(1000) }).optional(),
});

/** An audit chain's source: the workspace id, for a supervisor (the control plane checks it is its own). */
const auditSource = text(200);
/**
 * One record of a supervisor's audit spool, as written: `{seq, time, prev, hash, event}`. The
 * store checks the hash over the content and the chain links; here only the shape.
 */
export const auditRecordMessage = z.strictObject({
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  time: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  prev: sha256Hex,
  hash: sha256Hex,
  event: z.record(z.string(), z.unknown()),
});

/** An OpenSSH ed25519 public key line without comment: a workspace's SSH host key. */
export const SSH_ED25519_PUBLIC_KEY = /^ssh-ed25519 [A-Za-z0-9+/]{68}$/;

/** Messages the supervisor sends. */
export const supervisorMessage = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('hello'),
    workspaceId: text(128),
    supervisorVersion: text(64),
    protocol: z.literal(CHANNEL_PROTOCOL_VERSION),
    /** The workspace's SSH host public key (`ssh-ed25519 BASE64`), when it serves SSH (docs/broker.md). */
    sshHostKey: z.string().regex(SSH_ED25519_PUBLIC_KEY).optional(),
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
  /** A call to hold in the control plane's review queue. */
  z.strictObject({ t: z.literal('review_request'), requestId: reviewRequestId, call: heldCallMessage }),
  /** Asks for one file of a release channel's TUF repository, at most `maxBytes` of it. */
  z.strictObject({
    t: z.literal('release_fetch'),
    requestId: releaseRequestId,
    channel: releaseChannel,
    path: z.string().regex(/^[a-z0-9][a-z0-9./-]{0,255}$/),
    maxBytes: z
      .int()
      .min(1)
      .max(64 * 1024 * 1024),
  }),
  /** The bundle in force (after every apply, and on connect). */
  z.strictObject({ t: z.literal('bundle_attest'), attestation: bundleAttestationMessage }),
  /**
   * Consecutive records of the workspace's audit spool, for the central store. At most one
   * batch per connection waits for its answer (`audit_ack` / `audit_nack`).
   */
  z.strictObject({
    t: z.literal('audit_batch'),
    source: auditSource,
    events: z.array(auditRecordMessage).min(1).max(MAX_AUDIT_BATCH_EVENTS),
  }),
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
  /** The queue's answer to `review_request`, with the gate steps the supervisor audits. */
  z.strictObject({
    t: z.literal('review_answer'),
    requestId: reviewRequestId,
    answer: gateAnswerMessage,
    steps: z.array(gateStepMessage).max(4),
  }),
  /** The request was refused (not this workspace's, a bad call, the queue failed): fail closed. */
  z.strictObject({ t: z.literal('review_failed'), requestId: reviewRequestId, message: text(1000) }),
  /** Part of a fetched release file, base64; `last` marks the end of the file. */
  z.strictObject({
    t: z.literal('release_chunk'),
    requestId: releaseRequestId,
    data: z.base64().max(Math.ceil(RELEASE_CHUNK_BYTES / 3) * 4),
    last: z.boolean(),
  }),
  /** The control plane has no such file (the end of the root chain, or an unknown path). */
  z.strictObject({ t: z.literal('release_missing'), requestId: releaseRequestId }),
  /** The batch is stored: every record of the source up to `uptoSeq` (whose hash is `hash`) is durable centrally. */
  z.strictObject({
    t: z.literal('audit_ack'),
    source: auditSource,
    uptoSeq: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    hash: sha256Hex,
  }),
  /** The batch was refused and nothing of it stored (`code` a PDK_ code): the spool sends it again later. */
  z.strictObject({ t: z.literal('audit_nack'), source: auditSource, code: text(64), message: text(1000) }),
  /** A channel has a new release (or a re-signed timestamp): fetch and verify it. */
  z.strictObject({
    t: z.literal('release_notify'),
    channel: releaseChannel,
    version: z.int().min(0).max(0xffff_ffff),
  }),
]);

export type SupervisorMessage = z.infer<typeof supervisorMessage>;
export type ControlPlaneMessage = z.infer<typeof controlPlaneMessage>;
export type HeldCallMessage = z.infer<typeof heldCallMessage>;
export type GateAnswerMessage = z.infer<typeof gateAnswerMessage>;
export type GateStepMessage = z.infer<typeof gateStepMessage>;
export type BundleAttestationMessage = z.infer<typeof bundleAttestationMessage>;
export type AuditBatchChannelMessage = Extract<SupervisorMessage, { t: 'audit_batch' }>;
export type AuditReplyChannelMessage = Extract<ControlPlaneMessage, { t: 'audit_ack' | 'audit_nack' }>;

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
