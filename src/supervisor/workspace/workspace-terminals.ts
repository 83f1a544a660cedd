import { dirname, join } from 'node:path';
import { hostTerminalEvent, type OcsfEvent } from '../../audit/index.ts';
import type { HostSshConfig, WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ReviewGate } from '../../policy/index.ts';
import type { SecretStore } from '../egress/index.ts';
import type { PolicyHolder } from '../policy/index.ts';
import type { TerminalRequest } from './channel-client.ts';
import { type HostEgress, type HostEgressOptions, startHostEgress } from './host-egress.ts';
import { HOST_SSH_ADDRESS, type HostSsh, prepareHostSsh } from './host-ssh.ts';
import { openHostSshPty, openHostSshStream } from './host-ssh-terminal.ts';
import type { WorkspaceTerminal } from './pty-terminal.ts';

// Where a workspace's terminals run, chosen once at supervisor start: each in a new Paddock
// sandbox (Linux: a shell on a pty, or `sshd -i` for `ssh` mode), or, with `config.hostSsh`
// (Windows guests, which have no sandbox), on the host's own OpenSSH server as its one local
// account (host-ssh.ts), with the workspace's egress gateway on loopback as that account's
// only way out when `config.hostEgress` is set (host-egress.ts).

const log = createLogger('workspace-supervisor');

export interface WorkspaceTerminals {
  /** The SSH host key announced to the control plane; absent when `ssh` mode is unavailable. */
  readonly sshHostKey?: string;
  open(request: TerminalRequest): Promise<WorkspaceTerminal>;
  /** Stops what the terminals share (the host's egress gateway); call once they have ended. */
  close(): Promise<void>;
}

export interface WorkspaceTerminalsOptions {
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  readonly reviews?: ReviewGate;
  readonly holder?: PolicyHolder;
  /** The workspace's secret store (config.secrets): every gateway injects credentials from it. */
  readonly secrets?: SecretStore;
  /** The host's egress gateway's name resolution and upstream trust (tests, split-horizon DNS). */
  readonly hostEgress?: Pick<HostEgressOptions, 'resolver' | 'upstreamTls' | 'trustStore'>;
}

/** The terminals `config` asks for. A host without the sandbox never loads its code. */
export async function workspaceTerminals(
  config: WorkspaceSupervisorConfig,
  options: WorkspaceTerminalsOptions,
): Promise<WorkspaceTerminals> {
  if (config.hostSsh) return hostSshTerminals(config, config.hostSsh, options);
  const { sandboxTerminals } = await import('./sandbox-terminals.ts');
  return sandboxTerminals(config, options);
}

/**
 * Every terminal on the host's OpenSSH server, as the account, each audited as a logon and its
 * logoff. A host that cannot be prepared (a missing host key, no ssh-keygen) keeps the
 * supervisor up, refusing every terminal with the reason, so the operator sees it in the
 * broker's answer and the supervisor's log. So does an egress gateway that cannot start: the
 * account then has no network at all (the firewall rule), the failure in the log.
 */
async function hostSshTerminals(
  config: WorkspaceSupervisorConfig,
  hostConfig: HostSshConfig,
  options: WorkspaceTerminalsOptions,
): Promise<WorkspaceTerminals> {
  const { audit } = options;
  let host: HostSsh | undefined;
  let unavailable: Error | undefined;
  try {
    host = prepareHostSsh(hostConfig, join(dirname(config.auditLog), 'host-ssh'));
  } catch (error) {
    unavailable = error as Error;
    log.error({ error: unavailable.message }, "terminals on the host's OpenSSH server are unavailable");
  }
  // Open terminals per user: a review-gated write names its requester only while one user has any.
  const users = new Map<string, number>();
  let egress: HostEgress | undefined;
  if (config.hostEgress)
    try {
      egress = await startHostEgress(config, config.hostEgress, {
        audit,
        ...(options.reviews ? { reviews: options.reviews } : {}),
        ...(options.holder ? { holder: options.holder } : {}),
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...options.hostEgress,
        requester: () => (users.size === 1 ? [...users.keys()][0] : undefined),
      });
    } catch (error) {
      log.error(
        { error: (error as Error).message },
        "the workspace's egress gateway is unavailable: the host account has no network",
      );
    }
  return {
    ...(host ? { sshHostKey: host.hostKey } : {}),
    close: async () => egress?.close(),
    async open(request) {
      const startedAt = Date.now();
      const event = (name: 'terminal.host_logon' | 'terminal.host_logoff') => ({
        event: name,
        workspaceId: config.workspaceId,
        user: { uid: request.userId },
        account: hostConfig.account,
        mode: request.mode,
        attachId: request.attachId,
        server: { ip: HOST_SSH_ADDRESS, port: hostConfig.port },
        correlationUid: request.attachId,
      });
      let terminal: WorkspaceTerminal;
      try {
        if (!host) throw unavailable;
        terminal =
          request.mode === 'ssh'
            ? await openHostSshStream(host)
            : await openHostSshPty(host, { cols: request.cols, rows: request.rows });
      } catch (error) {
        const reason = (error as Error).message;
        await audit(
          hostTerminalEvent({
            ...event('terminal.host_logon'),
            failure: { reasonCode: error instanceof PaddockError ? error.code : 'host_ssh_failed', reason },
          }),
        );
        throw error;
      }
      try {
        await audit(hostTerminalEvent({ ...event('terminal.host_logon'), time: startedAt }));
      } catch (error) {
        // No terminal the audit trail does not show.
        terminal.close();
        throw error;
      }
      users.set(request.userId, (users.get(request.userId) ?? 0) + 1);
      terminal.onExit((end) => {
        const left = (users.get(request.userId) ?? 1) - 1;
        if (left > 0) users.set(request.userId, left);
        else users.delete(request.userId);
        const endedAt = Date.now();
        void audit(
          hostTerminalEvent({
            ...event('terminal.host_logoff'),
            time: endedAt,
            exitCode: end.exitCode,
            startedAt,
            endedAt,
          }),
        ).catch((error: Error) => log.error({ error: error.message }, 'audit append failed'));
      });
      return terminal;
    },
  };
}
