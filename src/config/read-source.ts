import { isUtf8 } from 'node:buffer';
import { constants, type promises as fsp } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from './repository.ts';
import { fileProblem } from './problem.ts';

// Reads one desired-state file defensively: the repository is input from a pull
// request, so a file may be huge, binary, a FIFO or a symlink to a file outside
// the repository. None of those may hang the reader or be read past the limit.

/** Largest desired-state file, in bytes (1 MiB). Larger files are reported without being read. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type SourceResult = { readonly text: string } | { readonly problem: ConfigProblem };

// O_NOFOLLOW: a symlink would let a reviewed repository pull in an unreviewed file
// from elsewhere on disk. O_NONBLOCK: opening a FIFO must not wait for a writer.
// Both flags are absent on Windows, where 0 keeps the plain open.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads `file` (relative to `root`) as UTF-8 text of at most `maxBytes` bytes.
 * Every failure is returned as a problem located in that file, never thrown.
 */
export async function readSourceFile(
  root: string,
  file: string,
  maxBytes = MAX_FILE_BYTES,
): Promise<SourceResult> {
  let handle: fsp.FileHandle;
  try {
    handle = await open(join(root, file), OPEN_FLAGS);
  } catch (error) {
    return { problem: fileProblem(file, openFailure(error)) };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { problem: fileProblem(file, 'is not a regular file') };
    if (stat.size > maxBytes) return { problem: fileProblem(file, tooLarge(stat.size, maxBytes)) };
    // One byte more than stat reported shows whether the file grew meanwhile;
    // sizing by the file keeps many small files from costing 1 MiB each.
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stat.size)
      return { problem: fileProblem(file, 'file changed while it was being read; run again') };
    return decodeText(file, buffer.subarray(0, length));
  } catch (error) {
    return { problem: fileProblem(file, `cannot be read: ${(error as Error).message}`) };
  } finally {
    await handle.close();
  }
}

function openFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK') {
    return 'is a symbolic link; Paddock reads only regular files, so that every rule is reviewed in this repository';
  }
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  return `cannot be read: ${(error as Error).message}`;
}

function tooLarge(size: number, maxBytes: number): string {
  return `file is too large (${size} bytes); desired-state files are limited to ${maxBytes} bytes (1 MiB): split it or remove content`;
}

/** Decodes UTF-8, rejecting binary data, UTF-16 and invalid byte sequences with their position. */
export function decodeText(file: string, bytes: Uint8Array): SourceResult {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { problem: fileProblem(file, 'is UTF-16 encoded; save it as UTF-8') };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      problem: {
        ...positionOf(file, bytes, nul),
        path: '',
        message: 'is a binary file (it contains a NUL byte); desired-state files are UTF-8 text',
      },
    };
  }
  if (!isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    const hex = bytes[bad]!.toString(16).padStart(2, '0');
    return {
      problem: {
        ...positionOf(file, bytes, bad),
        path: '',
        message: `is not valid UTF-8 (byte 0x${hex}); save the file as UTF-8`,
      },
    };
  }
  // TextDecoder drops a leading byte order mark, which editors do not count as a column either.
  return { text: new TextDecoder('utf-8').decode(bytes) };
}

/** Line and column (1-based, in UTF-16 units as editors and the YAML parser count them) of byte `offset`. */
function positionOf(
  file: string,
  bytes: Uint8Array,
  offset: number,
): { file: string; line: number; column: number } {
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (before.charCodeAt(i) === 10) line++;
  return { file, line, column: before.length - lineStart + 1 };
}

/**
 * Offset of the first byte that breaks UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF); bytes.length when the input is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let size: number;
    let min: number;
    let max: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [size, min, max] = [2, 0x80, 0xbf];
    else if (b === 0xe0) [size, min, max] = [3, 0xa0, 0xbf];
    else if (b === 0xed) [size, min, max] = [3, 0x80, 0x9f];
    else if (b >= 0xe1 && b <= 0xef) [size, min, max] = [3, 0x80, 0xbf];
    else if (b === 0xf0) [size, min, max] = [4, 0x90, 0xbf];
    else if (b === 0xf4) [size, min, max] = [4, 0x80, 0x8f];
    else if (b >= 0xf1 && b <= 0xf3) [size, min, max] = [4, 0x80, 0xbf];
    else return i;
    // Only the second byte has a narrowed range; the rest are plain continuation bytes.
    for (let k = 1; k < size; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < min || c > max : c < 0x80 || c > 0xbf) return i;
    }
    i += size;
  }
  return i;
}
