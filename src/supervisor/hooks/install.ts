import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { type HookCommandOptions, type ManagedMount, managedSettingsFiles } from './managed-settings.ts';
import type { Harness } from './types.ts';

/**
 * Writes the managed settings of `harnesses` under `outDir`, each at its sandbox path below it
 * (`OUT/etc/claude-code/managed-settings.json`), read-only (0444), and returns the mounts the
 * launcher must make. Files are rewritten on every call.
 * @throws PaddockError PDK_HOOK_SETTINGS_WRITE
 * @example await writeManagedSettings('/var/lib/paddock/s1/hooks', ['claude-code'], { nodePath, entryPath })
 */
export async function writeManagedSettings(
  outDir: string,
  harnesses: readonly Harness[],
  options: HookCommandOptions,
): Promise<ManagedMount[]> {
  const mounts: ManagedMount[] = [];
  try {
    for (const harness of harnesses) {
      for (const file of managedSettingsFiles(harness, options)) {
        const host = join(outDir, file.sandboxPath);
        await mkdir(dirname(host), { recursive: true });
        await chmod(host, 0o644).catch(() => undefined);
        await writeFile(host, file.contents, { mode: 0o444 });
        await chmod(host, 0o444);
        mounts.push({ harness, host, sandbox: file.sandboxPath, purpose: file.purpose });
      }
    }
  } catch (error) {
    throw new PaddockError(
      'PDK_HOOK_SETTINGS_WRITE',
      `cannot write managed hook settings under ${outDir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return mounts;
}
