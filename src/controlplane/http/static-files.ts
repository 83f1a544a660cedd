import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

// The built console, served from one directory. A path that names no file gets index.html (the
// SPA's client-side routes); nothing outside the directory is ever read. Vite's hashed assets
// under /assets/ are cached for a year, everything else revalidated.

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.cast': 'application/x-asciicast',
};

async function fileAt(path: string): Promise<{ path: string; size: number } | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? { path, size: info.size } : undefined;
}

/**
 * Serves `pathname` from `root`, or index.html for an unknown path; resolves to false when there
 * is nothing to serve (no index.html either).
 */
export async function serveStatic(
  root: string,
  pathname: string,
  res: ServerResponse,
  head: boolean,
): Promise<boolean> {
  const base = resolve(root);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    decoded = '/';
  }
  const candidate = resolve(join(base, decoded));
  const inside = candidate === base || candidate.startsWith(base + sep);
  const file =
    (inside && !decoded.includes('\0') ? await fileAt(candidate) : undefined) ??
    (await fileAt(join(base, 'index.html')));
  if (!file) return false;
  const immutable = file.path.startsWith(join(base, 'assets') + sep);
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': file.size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (head) {
    res.end();
    return true;
  }
  createReadStream(file.path).pipe(res);
  return true;
}
