import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { PaddockError } from '../../core/errors.ts';
import type { KubeObject } from './resources.ts';

// The provider's one boundary to the Kubernetes API, through @kubernetes/client-node.
// Writes are server-side apply (content type application/apply-patch+yaml) under the field
// manager `paddock`, with force: Paddock is the authority for the fields it renders, so a
// conflict with another manager is resolved in its favour instead of failing the action.

/** The field manager of every write. */
export const FIELD_MANAGER = 'paddock';

/** Identifies one object. */
export interface KubeRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface KubeApi {
  /** Server-side apply of the whole object; resolves with what the server holds. */
  apply(object: KubeObject): Promise<KubeObject>;
  /** JSON merge patch (RFC 7386) of a few fields, e.g. spec.runStrategy. */
  mergePatch(ref: KubeRef, patch: Record<string, unknown>): Promise<KubeObject>;
  /** The object, or undefined when it does not exist. */
  read(ref: KubeRef): Promise<KubeObject | undefined>;
  /** Deletes the object; false when it did not exist. */
  remove(ref: KubeRef): Promise<boolean>;
  /** Objects of a kind matching `labelSelector`, in one namespace or (no namespace) all of them. */
  list(apiVersion: string, kind: string, labelSelector: string, namespace?: string): Promise<KubeObject[]>;
}

function describe(ref: KubeRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function refOf(object: KubeObject): KubeRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

function spec(ref: KubeRef): KubernetesObject {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

function failure(action: string, ref: KubeRef, error: unknown): PaddockError {
  const status = error instanceof ApiException ? error.code : undefined;
  const raw: unknown = error instanceof ApiException ? error.body : undefined;
  let body: unknown = raw;
  if (typeof raw === 'string')
    try {
      body = JSON.parse(raw);
    } catch {
      body = { message: raw.slice(0, 200) };
    }
  const apiStatus = body as { reason?: string; message?: string } | undefined;
  const reason =
    apiStatus && typeof apiStatus === 'object'
      ? `${apiStatus.reason ?? ''} ${apiStatus.message ?? ''}`.trim()
      : '';
  return new PaddockError(
    'PDK_KUBEVIRT_APPLY',
    `${action} ${describe(ref)}: ${status ? `HTTP ${status}` : (error as Error).message}${reason ? ` (${reason})` : ''}`,
    { cause: error },
  );
}

/** A KubeApi over a kubeconfig (in a pod: KubeConfig.loadFromCluster(); elsewhere loadFromDefault()). */
export function kubeApiFrom(config: KubeConfig): KubeApi {
  const client = KubernetesObjectApi.makeApiClient(config);
  return {
    async apply(object) {
      try {
        const applied = await client.patch(
          structuredClone(object) as KubernetesObject,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
        return applied as unknown as KubeObject;
      } catch (error) {
        throw failure('apply', refOf(object), error);
      }
    },
    async mergePatch(ref, patch) {
      try {
        const body = { ...patch, apiVersion: ref.apiVersion, kind: ref.kind, metadata: spec(ref).metadata };
        return (await client.patch(
          body as KubernetesObject,
          undefined,
          undefined,
          FIELD_MANAGER,
          undefined,
          PatchStrategy.MergePatch,
        )) as unknown as KubeObject;
      } catch (error) {
        throw failure('patch', ref, error);
      }
    },
    async read(ref) {
      try {
        return (await client.read(spec(ref) as never)) as unknown as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw failure('read', ref, error);
      }
    },
    async remove(ref) {
      try {
        await client.delete(spec(ref), undefined, undefined, undefined, undefined, 'Foreground');
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw failure('delete', ref, error);
      }
    },
    async list(apiVersion, kind, labelSelector, namespace) {
      try {
        const result = await client.list(
          apiVersion,
          kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        );
        return result.items as unknown as KubeObject[];
      } catch (error) {
        throw failure(
          'list',
          { apiVersion, kind, name: labelSelector, ...(namespace ? { namespace } : {}) },
          error,
        );
      }
    },
  };
}
