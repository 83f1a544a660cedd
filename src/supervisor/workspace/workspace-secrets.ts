import { isAbsolute } from 'node:path';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { assertSecretStoreOutside, openEncryptedFileSecretStore, type SecretStore } from '../egress/index.ts';

// The workspace's secret store (`config.secrets`), opened once at supervisor start: a field
// that is malformed, a store or key the sandbox could read (inside the workspace's workdir or
// home), or a store that does not decrypt stops the supervisor before any terminal opens.
// Without `secrets` there is no store: credentialed services fail closed.

/**
 * Validates `config.secrets` and opens the store. PDK_SECRET_STORE_INVALID (a malformed field,
 * an unreadable or undecryptable store or key), PDK_SECRET_STORE_EXPOSED (inside workdir or homeDir).
 * @example const secrets = await openWorkspaceSecrets(config);
 */
export async function openWorkspaceSecrets(
  config: WorkspaceSupervisorConfig,
): Promise<SecretStore | undefined> {
  const field: unknown = (config as { secrets?: unknown }).secrets;
  if (field === undefined) return undefined;
  const store = field as { file?: unknown; keyFile?: unknown } | null;
  for (const name of ['file', 'keyFile'] as const) {
    const value = typeof store === 'object' && store !== null ? store[name] : undefined;
    if (typeof value !== 'string' || !isAbsolute(value))
      throw new PaddockError(
        'PDK_SECRET_STORE_INVALID',
        `supervisor config field secrets.${name} must be an absolute path (got ${JSON.stringify(value) ?? 'nothing'})`,
      );
  }
  const paths = field as { file: string; keyFile: string };
  assertSecretStoreOutside(paths, [
    { label: 'the workspace workdir', path: config.workdir },
    { label: 'the workspace home', path: config.homeDir },
  ]);
  return openEncryptedFileSecretStore({ file: paths.file, keyFile: paths.keyFile });
}
