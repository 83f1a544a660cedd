import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type HostSshConfig, SSH_ED25519_PUBLIC_KEY } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';

// Terminals through the host's own OpenSSH server (`config.hostSsh`: Windows guests, where no
// Paddock sandbox exists). The server listens on loopback only and lets one unprivileged local
// account in with public keys. The supervisor logs in there itself for shell terminals, with a
// key of its own it generates once and keeps in its state directory; that key is the only
// line of the server's AuthorizedKeysFile it owns, restricted to loopback and to a pty (no
// forwarding, no ~/.ssh/rc). The client pins the server's host key: the key the operator named,
// the same one the control plane announces to users for `ssh` mode.

/** The server's address: the supervisor reaches it on loopback only. */
export const HOST_SSH_ADDRESS = '127.0.0.1';
/** The supervisor's own client key, in its host-ssh state directory. */
const CLIENT_KEY = 'client_key';
const KNOWN_HOSTS = 'known_hosts';
/** The comment on the supervisor's key, so an operator reading AuthorizedKeysFile knows whose it is. */
const KEY_COMMENT = 'paddock-workspace-supervisor';
/** Options on the supervisor's authorized key: loopback only, a pty and nothing else. */
const KEY_OPTIONS = `from="${HOST_SSH_ADDRESS}",restrict,pty`;

/** What a host terminal needs to log in, prepared at supervisor start. */
export interface HostSsh {
  readonly port: number;
  readonly account: string;
  readonly sshClient: string;
  /** The server's host public key (`ssh-ed25519 AAAA…`, no comment): announced in `hello`, pinned. */
  readonly hostKey: string;
  /** The supervisor's private key (0600 in a 0700 directory). */
  readonly clientKeyFile: string;
  /** Pins `hostKey` for the server's address and port (and nothing else). */
  readonly knownHostsFile: string;
}

/** `ssh-keygen` beside the client: `ssh-keygen.exe` next to `ssh.exe`, or from PATH when `sshClient` is a bare name. */
export function sshKeygenBeside(sshClient: string): string {
  const windows = process.platform === 'win32' || /\.exe$/i.test(sshClient);
  const name = windows ? 'ssh-keygen.exe' : 'ssh-keygen';
  return basename(sshClient) === sshClient ? name : join(dirname(sshClient), name);
}

/** The name OpenSSH looks the server up by in known_hosts: `[127.0.0.1]:PORT`, bare on port 22. */
export function knownHostsName(port: number): string {
  return port === 22 ? HOST_SSH_ADDRESS : `[${HOST_SSH_ADDRESS}]:${port}`;
}

/** The `type key` of an OpenSSH public key file (a BOM, CRLF and the comment dropped). */
function publicKeyLine(text: string): string {
  const [type, key] = text
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\s+/);
  return `${type} ${key}`;
}

/** How long a rename is retried while Windows holds the target (sshd or a scanner reading it). */
const RENAME_RETRY_MS = 2000;

/** Renames over `to`, retrying the brief EPERM/EBUSY/EACCES Windows gives while another process reads it. */
function renameOver(from: string, to: string): void {
  const deadline = Date.now() + RENAME_RETRY_MS;
  for (;;) {
    try {
      renameSync(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!['EPERM', 'EBUSY', 'EACCES'].includes(code) || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/**
 * Replaces `path` whole (temp file beside it, then rename): a reader (sshd, a client reading a
 * CA bundle) never sees a half-written file. `mode` exactly, whatever the umask (POSIX).
 */
export function replaceFile(path: string, content: string, mode: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, content, { mode });
    chmodSync(temp, mode);
    renameOver(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The server's host key as configured. PDK_CHANNEL_TERMINAL when it is missing or not ed25519. */
function readHostKey(hostKeyFile: string): string {
  let text: string;
  try {
    text = readFileSync(hostKeyFile, 'utf8');
  } catch (error) {
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `the host SSH server's public key ${hostKeyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): install and start OpenSSH Server so it generates its ed25519 host key, or point hostSsh.hostKeyFile at that key's .pub file`,
    );
  }
  const line = publicKeyLine(text);
  if (!SSH_ED25519_PUBLIC_KEY.test(line))
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `${hostKeyFile} is not an ed25519 public key (OpenSSH .pub): point hostSsh.hostKeyFile at the server's ssh_host_ed25519_key.pub`,
    );
  return line;
}

/** The supervisor's key pair in `dir`, generated the first time only; returns its public key line. */
function ensureClientKey(dir: string, sshKeygen: string): string {
  const key = join(dir, CLIENT_KEY);
  if (!existsSync(key) || !existsSync(`${key}.pub`)) {
    rmSync(key, { force: true });
    rmSync(`${key}.pub`, { force: true });
    try {
      execFileSync(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', KEY_COMMENT, '-f', key], {
        stdio: 'ignore',
        timeout: 30_000,
      });
    } catch (error) {
      throw new PaddockError(
        'PDK_CHANNEL_TERMINAL',
        `${sshKeygen} could not make the supervisor's SSH key (${(error as Error).message}): install OpenSSH Client, or point hostSsh.sshClient at the ssh that has ssh-keygen beside it`,
      );
    }
  }
  // OpenSSH's client refuses a private key others can read.
  chmodSync(key, 0o600);
  const line = publicKeyLine(readFileSync(`${key}.pub`, 'utf8'));
  if (!SSH_ED25519_PUBLIC_KEY.test(line))
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `${key}.pub is not an ed25519 public key: remove ${key} and ${key}.pub and restart the supervisor to make a new one`,
    );
  return line;
}

/**
 * Prepares host terminals: the server's host key (validated), the supervisor's own key pair in
 * `stateDir` (0700, made once), its public key as the whole content of `authorizedKeysFile`
 * (replaced atomically), and a known_hosts file pinning the host key.
 * PDK_CHANNEL_TERMINAL naming what to fix when a file or ssh-keygen is missing.
 */
export function prepareHostSsh(config: HostSshConfig, stateDir: string): HostSsh {
  const hostKey = readHostKey(config.hostKeyFile);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  const clientKey = ensureClientKey(stateDir, sshKeygenBeside(config.sshClient));
  try {
    replaceFile(config.authorizedKeysFile, `${KEY_OPTIONS} ${clientKey} ${KEY_COMMENT}\n`, 0o644);
  } catch (error) {
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `the supervisor cannot write ${config.authorizedKeysFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): create its directory, writable by the supervisor's account, and name the file in sshd_config's AuthorizedKeysFile`,
    );
  }
  const knownHostsFile = join(stateDir, KNOWN_HOSTS);
  replaceFile(knownHostsFile, `${knownHostsName(config.port)} ${hostKey}\n`, 0o600);
  return {
    port: config.port,
    account: config.account,
    sshClient: config.sshClient,
    hostKey,
    clientKeyFile: join(stateDir, CLIENT_KEY),
    knownHostsFile,
  };
}
