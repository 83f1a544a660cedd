import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Terminal } from '../../../../src/controlplane/broker/terminal-target.ts';
import { PaddockError } from '../../../../src/core/errors.ts';
import { startSandbox } from '../../../../src/supervisor/index.ts';
import { WRITABLE_WORKSPACE } from '../../../support/sandbox-harness.ts';
import type { RecordingTarget } from './targets.ts';

// The workspace side of SSH through the broker, for real: Debian's OpenSSH `sshd -i` (inetd
// mode: the SSH protocol on stdin/stdout) inside a real agent sandbox, as the sandbox user,
// with a per-workspace host key and the user's authorized key bound read-only at
// /etc/paddock-ssh. Non-root sshd authenticates only the user it runs as, which is exactly the
// sandbox user; `StrictModes no` because the bound files belong to the host's root, which the
// sandbox's user namespace shows as nobody. The host key is readable inside the sandbox (the
// agent runs as the same user): it proves which workspace answers, not that the agent cannot
// read it.

const SSHD = '/usr/sbin/sshd';
const SSH_DIR = '/etc/paddock-ssh';

/** Writes a host key, sshd_config and authorized_keys into `dir`; returns the host public key line. */
export function prepareSshDir(dir: string, authorizedKey: string): string {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install Debian's openssh-server (scripts/setup.sh does)`);
  }
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'paddock-workspace',
    '-f',
    join(dir, 'host_key'),
  ]);
  execFileSync('chmod', ['0644', join(dir, 'host_key')]);
  writeFileSync(join(dir, 'authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o644 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `HostKey ${SSH_DIR}/host_key`,
      `AuthorizedKeysFile ${SSH_DIR}/authorized_keys`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PidFile none',
      'StrictModes no',
      'PermitUserEnvironment no',
      'AllowTcpForwarding no',
      'AllowStreamLocalForwarding no',
      'X11Forwarding no',
      'PermitTunnel no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  return readFileSync(join(dir, 'host_key.pub'), 'utf8').trim();
}

/** A workspace whose `ssh`-mode terminals are `sshd -i` in a sandbox over `workdir`. */
export function sshdTarget(
  workspaceId: string,
  workdir: string,
  sshDir: string,
): RecordingTarget & { log(): string } {
  const opened: Terminal[] = [];
  let log = '';
  return {
    workspaceId,
    opened,
    log: () => log,
    async open(options) {
      if (options.mode !== 'ssh')
        throw new PaddockError('PDK_CHANNEL_TERMINAL', 'this target serves SSH only');
      const sandbox = await startSandbox({
        command: [SSHD, '-i', '-e', '-f', `${SSH_DIR}/sshd_config`],
        workdir,
        dataScope: WRITABLE_WORKSPACE,
        readOnlyBinds: [{ host: sshDir, dest: SSH_DIR }],
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const { stdin, stdout, stderr } = sandbox.child;
      stderr?.on('data', (chunk: Buffer) => {
        if (log.length < 100_000) log += chunk.toString();
      });
      stdin?.on('error', () => {}); // sshd gone: its exit reports why
      const terminal: Terminal = {
        write: (data) => {
          stdin?.write(data);
        },
        resize: () => {}, // SSH carries its own window-change requests inside the stream
        close: () => sandbox.kill('SIGTERM'),
        onData: (listener) => stdout?.on('data', (chunk: Buffer) => listener(chunk)),
        onExit: (listener) => {
          void sandbox.exited.then((exit) => listener({ exitCode: exit.exitCode, signal: null }));
        },
        pause: () => stdout?.pause(),
        resume: () => stdout?.resume(),
      };
      opened.push(terminal);
      return terminal;
    },
  };
}
