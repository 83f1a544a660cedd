import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncEtcMirror } from './etc-mirror.ts';
import { SANDBOX_USER } from './sandbox-types.ts';
import { ETC_ENTRIES, type SynthesizedEtcFile } from './system-view.ts';

// The launcher's host-side state: a root-owned directory (default /run/paddock, a tmpfs that a
// reboot clears) holding what every sandbox binds read-only, and the uid leases. Nothing in it
// is per-run or secret, and nothing in it is writable by a sandbox uid.
//   etc/         the sandbox's /etc: mirrored host entries, synthesized identity files,
//                paddock/landlock-exec and the paddock/ca.pem mount point
//   empty        an empty file bound over hidden files
//   slots/       uid leases (sandbox-uid.ts)

/** Default state directory. */
export const DEFAULT_STATE_DIR = '/run/paddock';

export interface SandboxStateFiles {
  readonly stateDir: string;
  /** Bound read-only as the sandbox's /etc. */
  readonly etcMirror: string;
  readonly emptyFile: string;
  readonly slotsDir: string;
}

export const SANDBOX_HOSTNAME = 'paddock';

/** The sandbox's identity files: its own user and the two ids it can see; no host accounts. */
export const ETC_CONTENT: Readonly<Record<SynthesizedEtcFile, string>> = {
  passwd: [
    'root:x:0:0:root:/root:/usr/sbin/nologin',
    `${SANDBOX_USER.name}:x:${SANDBOX_USER.uid}:${SANDBOX_USER.gid}:Paddock agent:/home/agent:/bin/bash`,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n'),
  group: ['root:x:0:', `${SANDBOX_USER.name}:x:${SANDBOX_USER.gid}:`, 'nogroup:x:65534:', ''].join('\n'),
  // No resolver inside: names resolve at the proxy. Only loopback names are known.
  hosts: `127.0.0.1\tlocalhost\n127.0.1.1\t${SANDBOX_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  hostname: `${SANDBOX_HOSTNAME}\n`,
  // No nameserver: DNS is not a channel out (DESIGN.md §5 invariant 1). Without one, glibc and
  // c-ares ask 127.0.0.1:53, where nothing listens in the sandbox's own network namespace, so
  // a lookup fails at once (ECONNREFUSED) instead of waiting out a timeout; timeout and
  // attempts bound it even if a process inside ever answered there without replying.
  'resolv.conf': [
    '# Paddock sandbox: no DNS resolver. Names resolve at the egress proxy:',
    '# use HTTP_PROXY / HTTPS_PROXY, or ALL_PROXY=socks5h://… (the proxy resolves).',
    'options timeout:1 attempts:1',
    '',
  ].join('\n'),
};

function writeIfChanged(path: string, content: string | Buffer, mode: number): void {
  let current: Buffer | undefined;
  try {
    current = readFileSync(path);
  } catch {
    current = undefined;
  }
  if (current?.equals(Buffer.from(content))) return;
  const temporary = `${path}.${process.pid}`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

const written = new Map<string, string | Buffer>();

/** Puts `content` at `relative` inside the /etc mirror (root-owned, read-only inside). */
export function writeMirrorFile(etcMirror: string, relative: string, content: string | Buffer): void {
  const path = join(etcMirror, relative);
  if (written.get(path) === content) return; // this process wrote exactly this already
  writeIfChanged(path, content, 0o444);
  written.set(path, content);
}

/** How often one process re-checks the mirror against the host's /etc: a package update is
 * seen by sandboxes started a second later, and back-to-back launches skip ~3 ms of stat calls. */
export const STATE_RECHECK_MS = 1000;

const prepared = new Map<string, { files: SandboxStateFiles; at: number }>();

/** Creates or refreshes the state directory; cheap when it is already current. */
export function prepareStateDir(stateDir: string): SandboxStateFiles {
  const cached = prepared.get(stateDir);
  if (cached && performance.now() - cached.at < STATE_RECHECK_MS) return cached.files;
  const files = refreshStateDir(stateDir);
  prepared.set(stateDir, { files, at: performance.now() });
  return files;
}

function refreshStateDir(stateDir: string): SandboxStateFiles {
  written.clear(); // re-check the mirror files too, in case the directory was removed
  const etcMirror = join(stateDir, 'etc');
  const slotsDir = join(stateDir, 'slots');
  for (const dir of [stateDir, etcMirror, join(etcMirror, 'paddock'), slotsDir])
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(stateDir, 0o755);
  chmodSync(slotsDir, 0o700);
  syncEtcMirror(etcMirror, ETC_ENTRIES);
  for (const [name, content] of Object.entries(ETC_CONTENT))
    writeIfChanged(join(etcMirror, name), content, 0o444);
  // The CA bundle's mount point: the mirror is read-only inside, so bwrap cannot create it there.
  closeSync(openSync(join(etcMirror, 'paddock', 'ca.pem'), 'a', 0o444));
  const emptyFile = join(stateDir, 'empty');
  writeIfChanged(emptyFile, '', 0o444);
  return { stateDir, etcMirror, emptyFile, slotsDir };
}
