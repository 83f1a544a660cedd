import { dirname, join } from 'node:path';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { createLogger } from '../../core/log.ts';
import { openSandboxTerminal } from './pty-terminal.ts';
import { openSshdTerminal } from './sshd-terminal.ts';
import type { WorkspaceTerminals, WorkspaceTerminalsOptions } from './workspace-terminals.ts';
import { loadWorkspaceSandbox } from './workspace-sandbox.ts';
import { prepareSshd, SSH_SANDBOX_DIR } from './workspace-sshd.ts';

// A Linux workspace's terminals: each in a new Paddock sandbox, a login shell on a pty or, for
// `ssh` mode, `sshd -i` on pipes with the workspace's own host key (workspace-terminals.ts
// chooses this or the host's OpenSSH server).

const log = createLogger('workspace-supervisor');

/** Every terminal in a new sandbox; SSH's host key is the workspace's, made once, outside its home. */
export async function sandboxTerminals(
  config: WorkspaceSupervisorConfig,
  options: WorkspaceTerminalsOptions,
): Promise<WorkspaceTerminals> {
  const runFor = await loadWorkspaceSandbox(
    config,
    options.audit,
    options.reviews,
    options.holder,
    options.secrets,
  );
  const sshDir = join(dirname(config.auditLog), 'ssh');
  let sshHostKey: string | undefined;
  let sshUnavailable: Error | undefined;
  try {
    sshHostKey = prepareSshd(sshDir);
  } catch (error) {
    sshUnavailable = error as Error;
    log.warn({ error: sshUnavailable.message }, 'SSH into this workspace is unavailable');
  }
  return {
    ...(sshHostKey ? { sshHostKey } : {}),
    // Each sandbox has its own gateway, closed with it.
    close: async () => {},
    async open(request) {
      const run = runFor(request.userId);
      if (request.mode !== 'ssh') return openSandboxTerminal({ cols: request.cols, rows: request.rows, run });
      if (sshUnavailable) throw sshUnavailable;
      return openSshdTerminal({
        run: {
          ...run,
          readOnlyBinds: [...(run.readOnlyBinds ?? []), { host: sshDir, dest: SSH_SANDBOX_DIR }],
        },
      });
    },
  };
}
