import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type ErrorCode, PaddockError } from './errors.ts';

// Key files: the session key, the audit checkpoint key, the release signing keys. One way to
// create one (exclusively, never half-written) and one way to read one (refused when others can).

/**
 * Who may read a key file besides its owner: nobody (a key this process made), or its group (a
 * Kubernetes Secret volume, whose files the kubelet gives to the pod's fsGroup).
 */
export type SecretReaders = 'owner' | 'group';

export interface SecretFileOptions {
  /** The error code thrown, e.g. PDK_AUDIT_KEY. */
  readonly code: ErrorCode;
  /** What the file is, for the message: "audit signing key". */
  readonly what: string;
}

/**
 * The file's bytes. Throws `code` when it cannot be read or when anyone beyond `readers` can
 * read it (the message says which chmod fixes it).
 */
export function readSecretFile(
  path: string,
  readers: SecretReaders,
  { code, what }: SecretFileOptions,
): Buffer {
  let mode: number;
  let bytes: Buffer;
  try {
    mode = statSync(path).mode & 0o777;
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'could not be read';
    throw new PaddockError(code, `${what} ${path} ${reason}: ${(error as Error).message}`, { cause: error });
  }
  const forbidden = readers === 'owner' ? 0o077 : 0o007;
  if ((mode & forbidden) !== 0)
    throw new PaddockError(
      code,
      `${what} ${path} has mode ${mode.toString(8)}: it must be ${
        readers === 'owner'
          ? 'readable by its owner only (chmod 600)'
          : 'unreadable by others (chmod 600, or 440 for a group)'
      }`,
    );
  return bytes;
}

/**
 * Creates `path` (mode 0600, its directory 0700) with `contents()` unless it exists. Written under
 * a temporary name, synced, then linked into place: link fails when the name exists, so of two
 * processes starting together one key wins and nobody reads a half-written file.
 */
export function createSecretFileOnce(
  path: string,
  contents: () => string | Uint8Array,
  { code, what }: SecretFileOptions,
): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      const body = contents();
      writeSync(fd, typeof body === 'string' ? Buffer.from(body) : body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temporary, 0o600);
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new PaddockError(code, `${what} ${path} could not be created: ${(error as Error).message}`, {
        cause: error,
      });
  } finally {
    rmSync(temporary, { force: true });
  }
}
