import { createHash } from 'node:crypto';
import { PaddockError } from '../../core/index.ts';
import type { PolicyBundle, PolicyBundleInput } from '../cedar/bundle-types.ts';
import { compilePolicyBundle } from '../cedar/compile-bundle.ts';
import type { EgressServiceSpec } from '../egress/types.ts';
import { canonicalJson } from '../pdp/request-forms.ts';
import type { ReviewGateSpec, ToolArgumentLogging } from '../review/types.ts';

// A release bundle: everything a supervisor enforces for one blueprint, compiled from the
// desired-state repository at one Git commit. It is what a policy release signs (its bytes are a
// TUF target) and what a supervisor applies. Pure: no clock, no I/O, so the same input always
// serialises to the same bytes (canonical JSON: sorted keys, no whitespace, stable order).
//
// Public API (the reconciler and the release repository call these; keep them stable):
//   compileReleaseBundle(input: ReleaseBundleInput): ReleaseBundle
//   serializeReleaseBundle(bundle: ReleaseBundle): Uint8Array
//   parseReleaseBundle(bytes: Uint8Array): ReleaseBundle   (PDK_RELEASE_BUNDLE_INVALID)
//   releaseBundleHash(bytes: Uint8Array): string           (sha256 hex, the TUF target hash)

/** The format tag of every release bundle; a supervisor refuses any other. */
export const RELEASE_BUNDLE_FORMAT = 'paddock.dev/bundle/v1';

/** One input file of the commit and its content hash. */
export interface SourceFileHash {
  /** Path relative to the repository root, `/`-separated. */
  readonly path: string;
  /** sha256 of the file's bytes, hex. */
  readonly sha256: string;
}

/** A blueprint's `spec.logging` as a bundle carries it. */
export interface BundleLogging extends ToolArgumentLogging {
  /** e.g. `365d`; absent when the blueprint sets none. */
  readonly retention?: string;
}

/** What `compileReleaseBundle` takes: the policy compiler's input plus the rest of the blueprint. */
export interface ReleaseBundleInput {
  /** Blueprint policy fields, protected paths and policies/*.cedar (compilePolicyBundle's input). */
  readonly policy: PolicyBundleInput;
  /** The effective `spec.dataScope`, defaults applied. */
  readonly filesystem: {
    readonly read: readonly string[];
    readonly write: readonly string[];
    readonly deny: readonly string[];
  };
  /** The effective `spec.reviewGates`; absent: no gate (a review-required write is refused). */
  readonly reviewGates?: ReviewGateSpec;
  /** The effective `spec.logging`; absent: tool arguments redacted, no patterns. */
  readonly logging?: BundleLogging;
  /** The Git commit compiled (40 or 64 hex, or `sha256:HEX` for a plain directory) and every file this bundle was built from. */
  readonly source: { readonly commit: string; readonly files: readonly SourceFileHash[] };
}

/** A compiled release bundle (plain JSON data). */
export interface ReleaseBundle {
  readonly format: typeof RELEASE_BUNDLE_FORMAT;
  /** The decision point's bundle id (`NAME:DIGEST16` of what decides). Events carry it. */
  readonly id: string;
  /** The blueprint's semver. Events carry it. */
  readonly version: string;
  readonly blueprint: { readonly name: string; readonly version: string };
  readonly source: { readonly commit: string; readonly files: readonly SourceFileHash[] };
  /** sha256 (hex) of the canonical JSON of `policy`, `network`, `filesystem`, `reviewGates`, `logging`. */
  readonly contentHash: string;
  /** Cedar policies and schema, as the decision point loads them. */
  readonly policy: PolicyBundle;
  /** The egress allowlist (the blueprint's services, shared services expanded). */
  readonly network: { readonly services: readonly EgressServiceSpec[] };
  readonly filesystem: ReleaseBundleInput['filesystem'];
  readonly reviewGates: ReviewGateSpec | null;
  readonly logging: BundleLogging;
}

/** A Git commit id (SHA-1 or SHA-256), or `sha256:HEX` of a plain directory's files. */
const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64}|sha256:[0-9a-f]{64})$/;
const DEFAULT_LOGGING: BundleLogging = { toolArguments: 'redacted', redact: [] };

/**
 * Compiles one blueprint's release bundle. Deterministic: file hashes are sorted by path, lists
 * keep the blueprint's order, nothing depends on time or the machine. Throws what
 * compilePolicyBundle throws, or PDK_RELEASE_BUNDLE_INVALID for a bad commit id.
 *
 * @example
 * const bundle = compileReleaseBundle({ policy: policyInput, filesystem: { read: ['/workspace'], write: [], deny: [] },
 *   source: { commit: 'a'.repeat(40), files: [{ path: 'blueprints/x.yaml', sha256: '…' }] } });
 * const bytes = serializeReleaseBundle(bundle); // identical bytes for identical input
 */
export function compileReleaseBundle(input: ReleaseBundleInput): ReleaseBundle {
  if (!COMMIT.test(input.source.commit))
    throw new PaddockError(
      'PDK_RELEASE_BUNDLE_INVALID',
      `"${input.source.commit}" is not a full Git commit id (or sha256:HEX directory digest)`,
    );
  const policy = compilePolicyBundle(input.policy);
  const files = [...input.source.files]
    .map((file) => ({ path: file.path, sha256: file.sha256 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const decided = {
    policy,
    network: { services: policy.services },
    filesystem: {
      read: [...input.filesystem.read],
      write: [...input.filesystem.write],
      deny: [...input.filesystem.deny],
    },
    reviewGates: input.reviewGates
      ? { ...input.reviewGates, reviewers: [...input.reviewGates.reviewers] }
      : null,
    logging: input.logging
      ? { ...input.logging, redact: [...input.logging.redact] }
      : { ...DEFAULT_LOGGING, redact: [] },
  };
  // A JSON round trip drops undefined members, so hashing and serialising see the same value.
  const plain = JSON.parse(JSON.stringify(decided)) as typeof decided;
  return {
    format: RELEASE_BUNDLE_FORMAT,
    id: policy.id,
    version: policy.version,
    blueprint: { name: policy.blueprint.name, version: policy.blueprint.version },
    source: { commit: input.source.commit, files },
    contentHash: sha256Hex(canonicalJson(plain)),
    ...plain,
  };
}

/** The bundle's canonical bytes: canonical JSON (sorted keys, no whitespace), UTF-8. */
export function serializeReleaseBundle(bundle: ReleaseBundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundle));
}

/** sha256 of the bundle's bytes, hex: the hash its TUF target entry records. */
export function releaseBundleHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
