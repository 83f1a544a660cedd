import { createHash } from 'node:crypto';
import { type OcsfEvent, policyEvent } from '../../audit/index.ts';
import type { BundleAttestationMessage } from '../../core/channel/index.ts';
import { createLogger, isPaddockError, PaddockError } from '../../core/index.ts';
import { parseReleaseBundle, type ReleaseBundle } from '../../policy/index.ts';
import type { AppliedPolicy, PolicyHolder } from './policy-holder.ts';
import { TrustedStore } from './trusted-store.ts';
import {
  DEFAULT_SIZE_LIMITS,
  fetchTarget,
  type ReleaseFetch,
  type ReleaseSizeLimits,
  refreshChannel,
  type TrustedMetadata,
} from './tuf-client.ts';

// The supervisor's bundle verifier: fetch ► verify (TUF) ► apply atomically ► attest.
// A bundle is applied only when the channel's metadata verifies (signatures and thresholds,
// versions never lower, not expired, consistent) and its bytes have the hash and length the
// signed targets record; otherwise the bundle in force stays (DESIGN.md §5 invariant 5), and
// with none the workspace denies everything. Updates run one at a time; a notification during
// an update runs one more afterwards.
//
// Public API (the workspace supervisor wires these):
//   new BundleUpdater(options: BundleUpdaterOptions)
//   updater.start(): Promise<UpdateOutcome>       last good (or deny-all), then one update
//   updater.update(): Promise<UpdateOutcome>      on `release_notify` and on a timer
//   updater.attestation(): BundleAttestationMessage

const log = createLogger('bundle-updater');

export interface BundleUpdaterOptions {
  /** The supervisor's private state directory (trusted metadata, last good bundle). */
  readonly stateDir: string;
  /** The release channel this workspace follows (paddock.yaml `spec.releases.channels[].name`). */
  readonly channel: string;
  /** The workspace's blueprint; its release target is `NAME.json`. */
  readonly blueprint: string;
  /** The channel's root the workspace was provisioned with; used when the state directory has none. */
  readonly initialRoot: Uint8Array;
  readonly fetch: ReleaseFetch;
  readonly holder: PolicyHolder;
  /** Receives the attestation after every apply and every failed update. Default: none. */
  readonly attest?: (attestation: BundleAttestationMessage) => void;
  /** The clock expiry is checked against. Default: the system clock. */
  readonly now?: () => Date;
  /** Size limits per file. Default DEFAULT_SIZE_LIMITS. */
  readonly limits?: ReleaseSizeLimits;
  /**
   * Receives `policy.applied` after each apply and `policy.rejected` after each refused release
   * (not after a plain fetch failure such as a disconnected channel). Default: none.
   */
  readonly audit?: (event: OcsfEvent) => void;
  /** The workspace, named in audit events. */
  readonly workspaceId?: string;
}

// The reason codes of policy.rejected, by error code (docs/audit-events.md).
const REJECTION_REASONS: Record<string, string> = {
  PDK_RELEASE_SIGNATURE: 'signature_invalid',
  PDK_RELEASE_ROLLBACK: 'version_rollback',
  PDK_RELEASE_EXPIRED: 'metadata_expired',
  PDK_RELEASE_MISMATCH: 'metadata_mismatch',
  PDK_RELEASE_TOO_LARGE: 'file_too_large',
  PDK_RELEASE_BUNDLE_INVALID: 'bundle_invalid',
};

/** What an update did. */
export type UpdateOutcome =
  | { readonly result: 'applied'; readonly applied: AppliedPolicy }
  | { readonly result: 'unchanged'; readonly applied: AppliedPolicy }
  | { readonly result: 'withdrawn'; readonly applied: AppliedPolicy }
  | { readonly result: 'rejected'; readonly applied: AppliedPolicy; readonly error: PaddockError };

export class BundleUpdater {
  readonly #options: BundleUpdaterOptions;
  readonly #store: TrustedStore;
  #trusted: TrustedMetadata;
  #running: Promise<UpdateOutcome> | undefined;
  #again = false;
  #lastError: PaddockError | undefined;

  constructor(options: BundleUpdaterOptions) {
    this.#options = options;
    this.#store = new TrustedStore(options.stateDir);
    this.#trusted = this.#store.load(options.initialRoot);
  }

  /** The last update's failure, cleared by a successful one. */
  get lastError(): PaddockError | undefined {
    return this.#lastError;
  }

  /** Restores the last good bundle (or deny-all), attests, then runs one update. */
  async start(): Promise<UpdateOutcome> {
    const lastGood = this.#store.lastGood();
    if (
      lastGood &&
      lastGood.meta.channel === this.#options.channel &&
      lastGood.meta.blueprint === this.#options.blueprint
    ) {
      try {
        this.#options.holder.apply(parseReleaseBundle(lastGood.bytes), {
          hash: lastGood.meta.sha256,
          release: lastGood.meta.release,
        });
      } catch (error) {
        log.error(
          { error: (error as Error).message },
          'the last good bundle no longer loads: denying everything',
        );
        this.#options.holder.denyAll();
      }
    } else {
      this.#options.holder.denyAll();
    }
    this.#attest();
    return this.update();
  }

  /** Fetches, verifies and applies the channel's current release for this blueprint. */
  update(): Promise<UpdateOutcome> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<UpdateOutcome> => {
      let outcome: UpdateOutcome;
      do {
        this.#again = false;
        outcome = await this.#updateOnce();
      } while (this.#again);
      return outcome;
    };
    this.#running = run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** What this workspace enforces, as the control plane is told. */
  attestation(): BundleAttestationMessage {
    const { ref, bundle } = this.#options.holder.current;
    return {
      channel: this.#options.channel,
      blueprint: this.#options.blueprint,
      state: bundle ? 'applied' : 'deny-all',
      bundle: bundle ? { id: ref.id, version: ref.version, hash: ref.hash } : null,
      release: ref.release,
      commit: ref.commit,
      ...(this.#lastError
        ? { error: { code: this.#lastError.code, message: this.#lastError.message.slice(0, 1000) } }
        : {}),
    };
  }

  async #updateOnce(): Promise<UpdateOutcome> {
    const holder = this.#options.holder;
    /** The bundle the signed targets name, once known (for policy.rejected). */
    let candidate: { id: string; version: string } | undefined;
    try {
      const now = this.#options.now?.() ?? new Date();
      const refreshed = await refreshChannel(this.#trusted, this.#options.fetch, {
        now,
        limits: this.#options.limits ?? DEFAULT_SIZE_LIMITS,
      });
      // Trusted metadata advances even if the bundle then fails: versions never go back.
      this.#store.save(refreshed.changed);
      this.#trusted = refreshed.trusted;
      const targets = refreshed.trusted.targets;
      const name = `${this.#options.blueprint}.json`;
      const info = targets.signed.targets[name];
      if (!info) {
        // Signed metadata says this blueprint has no bundle any more: nothing is allowed.
        this.#lastError = undefined;
        const applied = holder.denying ? holder.current : holder.denyAll();
        this.#attest();
        return { result: 'withdrawn', applied };
      }
      const release = targets.signed.version;
      const sha256 = info.hashes['sha256'] as string;
      const custom = info.custom as { bundleId?: unknown; bundleVersion?: unknown };
      if (typeof custom.bundleId === 'string' && typeof custom.bundleVersion === 'string')
        candidate = { id: custom.bundleId, version: custom.bundleVersion };
      if (holder.current.ref.hash === sha256) {
        const changedRelease = holder.current.ref.release !== release;
        const applied = holder.retag(release);
        if (changedRelease) {
          const last = this.#store.lastGood();
          if (last) this.#store.saveLastGood(last.bytes, { ...last.meta, release });
        }
        const hadError = this.#lastError !== undefined;
        this.#lastError = undefined;
        if (changedRelease || hadError) this.#attest();
        return { result: 'unchanged', applied };
      }
      const bytes = await fetchTarget(
        targets,
        name,
        this.#options.fetch,
        refreshed.trusted.root.signed.consistentSnapshot,
      );
      const bundle: ReleaseBundle = parseReleaseBundle(bytes);
      if (bundle.blueprint.name !== this.#options.blueprint)
        throw new PaddockError(
          'PDK_RELEASE_MISMATCH',
          `target ${name} holds the bundle of blueprint ${bundle.blueprint.name}`,
        );
      const applied = holder.apply(bundle, { hash: sha256, release });
      this.#store.saveLastGood(bytes, {
        sha256: createHash('sha256').update(bytes).digest('hex'),
        release,
        channel: this.#options.channel,
        blueprint: this.#options.blueprint,
      });
      this.#lastError = undefined;
      log.info({ bundle: bundle.id, version: bundle.version, release }, 'bundle applied');
      this.#audit({
        event: 'policy.applied',
        bundle: { id: bundle.id, version: bundle.version },
        commit: bundle.source.commit,
        message: `bundle ${bundle.id} (release ${release} of ${this.#options.channel}) applied`,
      });
      this.#attest();
      return { result: 'applied', applied };
    } catch (error) {
      const coded = isPaddockError(error)
        ? error
        : new PaddockError(
            'PDK_RELEASE_BUNDLE_INVALID',
            `the bundle did not load: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
      this.#lastError = coded;
      log.warn({ code: coded.code, error: coded.message }, 'release rejected: the bundle in force stays');
      const reasonCode = REJECTION_REASONS[coded.code];
      if (reasonCode) {
        const kept = holder.current;
        this.#audit({
          event: 'policy.rejected',
          // Before the targets verify, what was offered is unknown: the channel's blueprint stands for it.
          bundle: candidate ?? {
            id: `${this.#options.channel}/${this.#options.blueprint}`,
            version: 'unverified',
          },
          ...(kept.bundle ? { keptBundle: { id: kept.ref.id, version: kept.ref.version } } : {}),
          failure: { reasonCode, reason: `${coded.code}: ${coded.message}` },
          message: `release of ${this.#options.channel} refused (${coded.code}); ${kept.bundle ? `${kept.ref.id} stays` : 'deny-all stays'}`,
        });
      }
      this.#attest();
      return { result: 'rejected', applied: holder.current, error: coded };
    }
  }

  #audit(input: Omit<Parameters<typeof policyEvent>[0], 'channel' | 'workspaceId'>): void {
    if (!this.#options.audit) return;
    try {
      this.#options.audit(
        policyEvent({
          ...input,
          channel: this.#options.channel,
          ...(this.#options.workspaceId ? { workspaceId: this.#options.workspaceId } : {}),
        } as Parameters<typeof policyEvent>[0]),
      );
    } catch (error) {
      log.error({ error: (error as Error).message }, 'policy event could not be recorded');
    }
  }

  #attest(): void {
    try {
      this.#options.attest?.(this.attestation());
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'attestation could not be sent');
    }
  }
}
