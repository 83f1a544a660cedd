import { PaddockError } from '../../core/errors.ts';
import type { WorkspaceLifecycle } from '../workspaces/lifecycle.ts';
import type { BundleRelease, ReconcileActions, ReleasedBundle } from './apply.ts';

// The reconciler's steps carried out by the workspace lifecycle (so every change is the same
// audited transition an admin's click makes) and by a release function.

export type ReleaseFunction = (release: BundleRelease) => Promise<readonly ReleasedBundle[]>;

/**
 * SEAM (issue 8, item 2): until the control plane's release module (src/controlplane/releases/)
 * is wired in (see release-adapter.ts), a release names each changed bundle by blueprint and
 * content digest and publishes nothing; the reconciler still records it (policy.released with
 * commit and approver) and marks it.
 */
export const recordOnlyRelease: ReleaseFunction = async (release) =>
  release.bundles
    .filter((bundle) => bundle.changed)
    .map((bundle) => ({
      blueprint: bundle.blueprint,
      id: `${bundle.blueprint}:${bundle.contentDigest.slice(0, 16)}`,
      version: bundle.version,
    }));

export interface LifecycleActionsOptions {
  readonly release?: ReleaseFunction;
  /**
   * Refuse (PDK_RECONCILE_RUNNING) to rebuild or revoke a running workspace: for a process such
   * as the `paddock apply` CLI that does not supervise the running workspaces (`paddock up`
   * does), whose provider could not stop them.
   */
  readonly refuseRunning?: boolean;
}

export function lifecycleActions(
  lifecycle: WorkspaceLifecycle,
  options: LifecycleActionsOptions = {},
): ReconcileActions {
  const guard = async (id: string, action: string) => {
    if (!options.refuseRunning) return;
    const workspace = await lifecycle.get(id);
    if (workspace.state === 'running')
      throw new PaddockError(
        'PDK_RECONCILE_RUNNING',
        `cannot ${action} ${id} from here: it is running under the control plane that started it`,
      );
  };
  return {
    async create(actor, step) {
      await lifecycle.create(actor, {
        id: step.workspace,
        owner: step.owner,
        profile: step.profile,
        provider: step.provider,
      });
    },
    async reprovision(actor, id) {
      // A crash between the workspace's row and its creation event loses the event: record it.
      await lifecycle.recordLostCreation(actor, id);
      await lifecycle.rebuild(actor, id);
    },
    async rebuild(actor, id) {
      await guard(id, 'rebuild');
      await lifecycle.rebuild(actor, id);
    },
    async revoke(actor, id) {
      await guard(id, 'revoke');
      await lifecycle.revoke(actor, id);
    },
    release: options.release ?? recordOnlyRelease,
  };
}
