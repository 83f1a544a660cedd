import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../chain/canonical-json.ts';
import { GENESIS_HASH } from '../chain/record.ts';
import type { CheckpointSigner } from './signer.ts';

// A checkpoint commits the central audit store to what it held at one point of its global
// sequence: every source's chain head (source, seq, hash) and the global sequence number.
// Checkpoints are chained (each names the previous one's hash) and signed with Ed25519, so
// rewriting the store (even rehashing a whole chain) needs the signing key, and a checkpoint
// removed or replaced breaks the checkpoint chain. The signed bytes are the body's canonical
// JSON; the same bytes are stored and exported, so anyone with the public key can verify them.

/** Where one source's chain stood. */
export interface ChainHead {
  readonly source: string;
  /** The last sequence number of the source's chain. */
  readonly seq: number;
  /** That record's hash. */
  readonly hash: string;
}

/** What a checkpoint signs. */
export interface CheckpointBody {
  /** Format version, 1. */
  readonly v: 1;
  /** 1 for the first checkpoint, then +1. */
  readonly index: number;
  /** When it was made, milliseconds since the epoch. */
  readonly time: number;
  /** The global sequence number of the last event it covers (0 before any event). */
  readonly gseq: number;
  /** The previous checkpoint's hash; GENESIS_HASH for the first. */
  readonly prev: string;
  /** Every source's head at gseq, sorted by source. */
  readonly heads: readonly ChainHead[];
  /** Which key signed it (see keyIdOf). */
  readonly keyId: string;
}

/** A checkpoint as stored and exported. */
export interface SignedCheckpoint {
  readonly index: number;
  readonly gseq: number;
  readonly time: number;
  /** The canonical JSON of the CheckpointBody: the signed bytes. */
  readonly body: string;
  /** SHA-256 (hex) of body. */
  readonly hash: string;
  /** Ed25519 signature over body, base64. */
  readonly signature: string;
  readonly keyId: string;
}

/** The `prev` of the first checkpoint. */
export const CHECKPOINT_GENESIS = GENESIS_HASH;

/** Heads sorted by source (the order the body commits to). */
export function sortHeads(heads: readonly ChainHead[]): ChainHead[] {
  return [...heads]
    .map((h) => ({ source: h.source, seq: h.seq, hash: h.hash }))
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

/**
 * Builds, hashes and signs a checkpoint.
 * @example const cp = await signCheckpoint(signer, { index: 1, time: Date.now(), gseq: 42, prev: CHECKPOINT_GENESIS, heads });
 */
export async function signCheckpoint(
  signer: CheckpointSigner,
  input: Omit<CheckpointBody, 'v' | 'keyId'>,
): Promise<SignedCheckpoint> {
  const body: CheckpointBody = {
    v: 1,
    index: input.index,
    time: input.time,
    gseq: input.gseq,
    prev: input.prev,
    heads: sortHeads(input.heads),
    keyId: signer.keyId,
  };
  const text = canonicalJson(body);
  const signature = Buffer.from(await signer.sign(Buffer.from(text, 'utf8'))).toString('base64');
  return {
    index: body.index,
    gseq: body.gseq,
    time: body.time,
    body: text,
    hash: sha256Hex(text),
    signature,
    keyId: signer.keyId,
  };
}

/** The outcome of checking one checkpoint on its own and against its predecessor. */
export type CheckpointCheck = { readonly body: CheckpointBody } | { readonly invalid: string };

/**
 * Checks a stored checkpoint: its body is canonical JSON of a well-formed body whose index,
 * gseq, time and key id match the row, its hash matches, the signature verifies with the key
 * its keyId names, and it follows `previous` (index +1, prev = previous hash, gseq not going
 * back). Does not check the heads against the chains: the store verifier does that.
 */
export function checkCheckpoint(
  checkpoint: SignedCheckpoint,
  previous: SignedCheckpoint | undefined,
  publicKeys: ReadonlyMap<string, KeyObject>,
): CheckpointCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(checkpoint.body);
  } catch {
    return { invalid: 'body is not JSON' };
  }
  const problem = bodyProblem(parsed);
  if (problem) return { invalid: problem };
  const body = parsed as CheckpointBody;
  if (canonicalJson(body) !== checkpoint.body) return { invalid: 'body is not in canonical JSON (edited)' };
  if (sha256Hex(checkpoint.body) !== checkpoint.hash) return { invalid: 'hash does not match the body' };
  if (body.index !== checkpoint.index || body.gseq !== checkpoint.gseq || body.time !== checkpoint.time)
    return { invalid: 'index, gseq or time of the row differ from the signed body' };
  if (body.keyId !== checkpoint.keyId) return { invalid: 'key id of the row differs from the signed body' };
  const key = publicKeys.get(body.keyId);
  if (!key) return { invalid: `signed by key ${body.keyId}, which is not among the trusted public keys` };
  let signed = false;
  try {
    signed = verifySignature(
      null,
      Buffer.from(checkpoint.body, 'utf8'),
      key,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    signed = false;
  }
  if (!signed) return { invalid: `Ed25519 signature does not verify with key ${body.keyId}` };
  const expectedIndex = (previous?.index ?? 0) + 1;
  if (body.index !== expectedIndex)
    return { invalid: `index ${body.index} where ${expectedIndex} was expected: a checkpoint is missing` };
  const expectedPrev = previous?.hash ?? CHECKPOINT_GENESIS;
  if (body.prev !== expectedPrev)
    return {
      invalid: `prev does not match the hash of checkpoint ${previous?.index ?? 'genesis'}: a checkpoint was replaced`,
    };
  if (previous && body.gseq < previous.gseq)
    return { invalid: `gseq ${body.gseq} goes back from checkpoint ${previous.index}'s ${previous.gseq}` };
  return { body };
}

const HEX64 = /^[0-9a-f]{64}$/;

function bodyProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'body is not an object';
  const body = value as Record<string, unknown>;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'gseq,heads,index,keyId,prev,time,v') return `body has members ${keys}`;
  if (body['v'] !== 1) return `unknown body version ${String(body['v'])}`;
  for (const name of ['index', 'time', 'gseq'] as const) {
    if (!Number.isSafeInteger(body[name]) || (body[name] as number) < 0) return `${name} is not an integer`;
  }
  if (typeof body['prev'] !== 'string' || !HEX64.test(body['prev']))
    return 'prev is not a SHA-256 hex digest';
  if (typeof body['keyId'] !== 'string') return 'keyId is not a string';
  if (!Array.isArray(body['heads'])) return 'heads is not an array';
  let last = '';
  for (const head of body['heads'] as unknown[]) {
    const h = head as Record<string, unknown>;
    if (
      typeof h !== 'object' ||
      h === null ||
      typeof h['source'] !== 'string' ||
      !Number.isSafeInteger(h['seq']) ||
      typeof h['hash'] !== 'string'
    )
      return 'a head is not {source, seq, hash}';
    if (h['source'] <= last && last !== '') return 'heads are not sorted by source, or repeat one';
    last = h['source'] as string;
  }
  return undefined;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
