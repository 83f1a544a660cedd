import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Terminal } from '../../../../src/controlplane/broker/terminal-target.ts';
import { PaddockError } from '../../../../src/core/errors.ts';
import { startSandbox } from '../../../../src/supervisor/index.ts';
import {
  prepareSshd,
  SSH_SANDBOX_DIR,
  SSHD_COMMAND,
} from '../../../../src/supervisor/workspace/workspace-sshd.ts';
import { WRITABLE_WORKSPACE } from '../../../support/sandbox-harness.ts';
import type { RecordingTarget } from './targets.ts';

// The workspace side of SSH through the broker for the broker's own tests: the product's
// `sshd -i` configuration (src/supervisor/workspace/workspace-sshd.ts) in a bare sandbox (no
// egress gateway, no persistent home), the user's authorized key bound read-only beside the
// host key at /etc/paddock-ssh. The workspace supervisor's real path is tested end to end in
// test/supervisor/workspace/workspace-ssh-e2e.test.ts.

/**
 * The product's sshd files (host key, sshd_config) in `dir`, with the authorized key bound
 * beside them instead of in a persistent home; returns the host public key line.
 */
export function prepareSshDir(dir: string, authorizedKey: string): string {
  const hostKey = prepareSshd(dir, { authorizedKeysFile: `${SSH_SANDBOX_DIR}/authorized_keys` });
  writeFileSync(join(dir, 'authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o644 });
  return hostKey;
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
        command: [...SSHD_COMMAND],
        workdir,
        dataScope: WRITABLE_WORKSPACE,
        readOnlyBinds: [{ host: sshDir, dest: SSH_SANDBOX_DIR }],
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
