import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PaddockError } from '../../core/index.ts';
import { canonicalJson } from '../pdp/request-forms.ts';
import { RELEASE_BUNDLE_FORMAT, type ReleaseBundle } from './release-bundle.ts';

// Reading a bundle back. A supervisor only parses bytes whose TUF hash already verified, so
// this is defence in depth: the shape is checked strictly, the bytes must be the canonical form
// of what they hold (one bundle has one byte string), and the content hash must match.

const text = z.string().min(1).max(65536);
const strings = z.array(z.string().max(65536)).max(10000);
const service = z.strictObject({
  name: text,
  hosts: strings,
  ports: z.array(z.int().min(1).max(65535)).max(1000).optional(),
  access: z.enum(['read-only', 'read-write', 'full']).optional(),
  rules: z
    .array(z.strictObject({ methods: strings, paths: strings }))
    .max(1000)
    .optional(),
  credential: text.optional(),
  credentialHeader: text.optional(),
  cidrs: strings.optional(),
});
const bundleSchema = z.strictObject({
  format: z.literal(RELEASE_BUNDLE_FORMAT),
  id: text,
  version: text,
  blueprint: z.strictObject({ name: text, version: text }),
  source: z.strictObject({
    commit: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64}|sha256:[0-9a-f]{64})$/),
    files: z.array(z.strictObject({ path: text, sha256: z.string().regex(/^[0-9a-f]{64}$/) })).max(10000),
  }),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  policy: z.strictObject({
    id: text,
    version: text,
    blueprint: z.strictObject({ name: text, version: text }),
    policies: z
      .array(
        z.strictObject({
          id: text,
          effect: z.enum(['permit', 'forbid']),
          text: z
            .string()
            .min(1)
            .max(1024 * 1024),
          source: z.strictObject({
            field: z.string().max(4096).optional(),
            file: z.string().max(4096).optional(),
            line: z.int().min(1).optional(),
          }),
        }),
      )
      .max(10000),
    schema: z
      .string()
      .min(1)
      .max(1024 * 1024),
    services: z.array(service).max(1000),
    pathGlobs: strings,
  }),
  network: z.strictObject({ services: z.array(service).max(1000) }),
  filesystem: z.strictObject({ read: strings, write: strings, deny: strings }),
  reviewGates: z
    .strictObject({
      reviewers: strings,
      minApprovals: z.int().min(1).max(10),
      timeout: text,
      onTimeout: z.enum(['deny', 'allow']),
    })
    .nullable(),
  logging: z.strictObject({
    toolArguments: z.enum(['full', 'redacted', 'none']),
    redact: strings,
    retention: text.optional(),
  }),
});

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a release bundle's bytes. Throws PDK_RELEASE_BUNDLE_INVALID when they are not UTF-8
 * canonical JSON of a v1 bundle, when the content hash does not match, or when the bundle's id
 * and version disagree with its policy's.
 */
export function parseReleaseBundle(bytes: Uint8Array): ReleaseBundle {
  let textValue: string;
  let value: unknown;
  try {
    textValue = decoder.decode(bytes);
    value = JSON.parse(textValue);
  } catch {
    throw invalid('the bytes are not UTF-8 JSON');
  }
  const parsed = bundleSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const bundle = parsed.data as ReleaseBundle;
  if (canonicalJson(value) !== textValue) throw invalid('the bytes are not in canonical form');
  const { policy, network, filesystem, reviewGates, logging } = bundle;
  const hash = createHash('sha256')
    .update(canonicalJson({ policy, network, filesystem, reviewGates, logging }))
    .digest('hex');
  if (hash !== bundle.contentHash) throw invalid('the content hash does not match the content');
  if (bundle.id !== policy.id || bundle.version !== policy.version)
    throw invalid('the bundle id or version disagrees with its policy');
  return bundle;
}

function invalid(why: string): PaddockError {
  return new PaddockError('PDK_RELEASE_BUNDLE_INVALID', `release bundle rejected: ${why}`);
}
