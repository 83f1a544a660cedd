import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSH_ED25519_PUBLIC_KEY } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';

// The workspace side of SSH through the access broker (docs/broker.md): Debian's OpenSSH
// `sshd -i` (inetd mode: the SSH protocol on stdin/stdout) inside the workspace's sandbox, as
// the sandbox user. A non-root sshd authenticates only the user it runs as, which is exactly
// the sandbox user, so it needs no privilege. Its files live in a directory of the workspace
// outside the home (the host key must not be something the agent can replace), bound
// read-only at /etc/paddock-ssh. The host key is readable inside the sandbox (a non-root sshd
// must read it): it proves which workspace answers, not that the agent cannot copy it.

export const SSHD = '/usr/sbin/sshd';
/** Where the host key and sshd_config appear inside the sandbox. */
export const SSH_SANDBOX_DIR = '/etc/paddock-ssh';
/** The SSH server on stdin/stdout, logging to stderr (-e). */
export const SSHD_COMMAND: readonly string[] = [SSHD, '-i', '-e', '-f', `${SSH_SANDBOX_DIR}/sshd_config`];
/** The user's own keys, in the workspace's persistent home (relative paths are from HOME). */
export const DEFAULT_AUTHORIZED_KEYS = '.ssh/authorized_keys';

/**
 * The sshd configuration. Public keys only; no forwarding of any kind (a tunnel would go around
 * the egress gateway). `StrictModes` (authorized_keys and the directories above it up to HOME
 * must be the user's and not writable by others) holds for keys in the home, which the sandbox
 * shows as the user's; keys bound from the host belong to the host's root, which the sandbox's
 * user namespace shows as nobody, so they need it off.
 */
export function sshdConfig(authorizedKeysFile: string = DEFAULT_AUTHORIZED_KEYS): string {
  const inHome = !authorizedKeysFile.startsWith('/');
  return [
    `HostKey ${SSH_SANDBOX_DIR}/host_key`,
    `AuthorizedKeysFile ${authorizedKeysFile}`,
    `StrictModes ${inHome ? 'yes' : 'no'}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'UsePAM no',
    'PidFile none',
    'PermitUserEnvironment no',
    'AllowTcpForwarding no',
    'AllowStreamLocalForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/**
 * Prepares `dir` for `sshd -i`: an ed25519 host key, generated the first time only (the
 * workspace keeps its identity across restarts and rebuilds), and sshd_config. The directory
 * is 0755 and the key 0644 because the sandbox runs as a freshly leased uid that must read
 * them. Returns the host public key line (`ssh-ed25519 AAAA…`, no comment).
 * PDK_CHANNEL_TERMINAL when OpenSSH is not installed.
 */
export function prepareSshd(dir: string, options: { authorizedKeysFile?: string } = {}): string {
  if (!existsSync(SSHD))
    throw new PaddockError(
      'PDK_CHANNEL_TERMINAL',
      `${SSHD} is missing: install OpenSSH's server (Debian: openssh-server) for SSH into workspaces`,
    );
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_key');
  if (!existsSync(hostKey) || !existsSync(`${hostKey}.pub`)) {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKey], {
      stdio: 'ignore',
    });
  }
  chmodSync(hostKey, 0o644);
  writeFileSync(join(dir, 'sshd_config'), sshdConfig(options.authorizedKeysFile), { mode: 0o644 });
  chmodSync(join(dir, 'sshd_config'), 0o644);
  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const line = `${type} ${key}`;
  if (!SSH_ED25519_PUBLIC_KEY.test(line))
    throw new PaddockError('PDK_CHANNEL_TERMINAL', `${hostKey}.pub is not an ed25519 public key`);
  return line;
}
