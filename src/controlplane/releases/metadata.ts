import { Metadata, type MetadataKind, Signature } from '@tufjs/models';
import type { Signer } from './signer.ts';

// Signing TUF metadata with asynchronous signers (a KMS signs over the network). The models'
// own `sign` is synchronous, so the canonical bytes are taken from it once and the signatures
// are added afterwards: the bytes signed are exactly the ones a verifier canonicalises.

type AnySigned = ConstructorParameters<typeof Metadata>[0];

/** The canonical bytes of a metadata's `signed` section (what every signature covers). */
export function signedBytes(metadata: Metadata<AnySigned>): Buffer {
  let captured: Buffer | undefined;
  const probe = new Metadata(metadata.signed);
  probe.sign((bytes) => {
    captured = bytes;
    return new Signature({ keyID: 'probe', sig: '' });
  });
  return captured as Buffer;
}

/** Adds one signature per signer (a signer already present is replaced). */
export async function signMetadata(metadata: Metadata<AnySigned>, signers: readonly Signer[]): Promise<void> {
  const bytes = signedBytes(metadata);
  for (const signer of signers) {
    const sig = await signer.sign(bytes);
    metadata.signatures[signer.key.keyID] = new Signature({
      keyID: signer.key.keyID,
      sig: Buffer.from(sig).toString('hex'),
    });
  }
}

/** Serialises metadata as the repository stores and serves it (JSON, two-space indented). */
export function metadataBytes(metadata: Metadata<AnySigned>): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(metadata.toJSON(), null, 2)}\n`);
}

/** Reads stored metadata back. */
export function readMetadata<T extends AnySigned>(kind: MetadataKind, bytes: Uint8Array): Metadata<T> {
  return Metadata.fromJSON(
    kind as never,
    JSON.parse(new TextDecoder().decode(bytes)),
  ) as unknown as Metadata<T>;
}

/** An ISO expiry `seconds` after `now`, whole seconds (TUF's format). */
export function expiresIn(now: Date, seconds: number): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}
