import { join, resolve } from 'node:path';
import { PaddockError } from '../core/errors.ts';
import {
  assertSecretStoreOutside,
  type EncryptedFileSecretStoreOptions,
  openEncryptedFileSecretStore,
} from '../supervisor/index.ts';

// `--secrets FILE [--secrets-key FILE]`: the encrypted secret store the egress gateway injects
// the blueprint's credentials from (docs/egress.md), the same for `paddock run` and `paddock up`.

export const SECRETS_OPTION = {
  secrets: { type: 'string' },
  'secrets-key': { type: 'string' },
} as const;

/**
 * The store's absolute paths (the key defaults to FILE.key), or undefined without --secrets.
 * PDK_CLI_USAGE for --secrets-key without --secrets.
 */
export function secretStorePaths(
  cwd: string,
  file: unknown,
  keyFile: unknown,
): EncryptedFileSecretStoreOptions | undefined {
  if (typeof file !== 'string') {
    if (typeof keyFile === 'string')
      throw new PaddockError('PDK_CLI_USAGE', '--secrets-key needs --secrets FILE');
    return undefined;
  }
  const path = resolve(cwd, file);
  return { file: path, keyFile: typeof keyFile === 'string' ? resolve(cwd, keyFile) : `${path}.key` };
}

/**
 * For `paddock up` and `paddock serve`, whose local workspaces get the store: checked here as
 * each workspace's supervisor checks it at start, so a bad store fails the command, not every
 * workspace. Outside the workspaces under `dataDir` (their workdirs and homes), and it decrypts.
 */
export async function checkWorkspaceSecretStore(
  store: EncryptedFileSecretStoreOptions,
  dataDir: string,
): Promise<void> {
  assertSecretStoreOutside(store, [{ label: '--data-dir workspaces', path: join(dataDir, 'workspaces') }]);
  await openEncryptedFileSecretStore(store);
}
