import { basename } from 'node:path';
import { buildEvent } from './base.ts';
import { AUTHENTICATION, FILE_SYSTEM_ACTIVITY, WEB_RESOURCES_ACTIVITY } from './classes.ts';
import { endpointObject, paddockActor, userObject } from './objects.ts';
import type { AuditContext, AuditEndpoint, AuditUser, OcsfEvent } from './types.ts';

// The access broker's terminals. An attach is access to a web resource (the workspace's
// terminal endpoint): Web Resources Activity (6001) with the Security Control attributes, as
// OCSF 1.8.0 advises in place of the deprecated Web Resource Access Activity; the activity is
// Other (99) named `Attach` or `Revoke`, and the action and disposition say what happened. The
// recording sealed when the terminal closes is a file the broker created: File System Activity
// (1001) Create, with the recording's SHA-256 in `file.hashes`, so a SIEM holds the digest the
// stored asciicast file must still match. Where a workspace has no sandbox and its terminals
// log in to the host's own OpenSSH server (Windows guests), the supervisor records each such
// login and its end as Authentication (3002) Logon / Logoff: the subject `user` is the host's
// local account, the actor the Paddock user the terminal is for.

/** How a terminal reached the workspace: the browser, `paddock connect`, or an SSH client through it. */
export type TerminalMode = 'shell' | 'ssh';

export interface TerminalAccessInput extends AuditContext {
  readonly event: 'terminal.attached' | 'terminal.denied' | 'terminal.revoked';
  readonly workspaceId: string;
  readonly user: AuditUser;
  /** The user's control-plane session the attach rides on. */
  readonly sessionId: string;
  /** The broker's id for this attach (also the recording's id). Absent for a refusal before one existed. */
  readonly attachId?: string;
  readonly mode: TerminalMode;
  /** Where the client connected from. */
  readonly source?: AuditEndpoint;
  /** Machine-readable reason for a denial or revocation, e.g. `origin_not_allowed`, `session_revoked`. */
  readonly reasonCode?: string;
  readonly reason?: string;
}

const ACTIVITY_NAME = {
  'terminal.attached': 'Attach',
  'terminal.denied': 'Attach',
  'terminal.revoked': 'Revoke',
} as const;

/** The terminal endpoint as OCSF `web_resource`. */
function terminalResource(
  workspaceId: string,
  mode: TerminalMode,
  attachId?: string,
): Record<string, unknown> {
  return {
    uid: attachId,
    name: `workspace ${workspaceId} terminal`,
    type: mode === 'ssh' ? 'SSH stream' : 'Terminal',
    url_string: `/api/workspaces/${encodeURIComponent(workspaceId)}/terminal`,
  };
}

/**
 * `terminal.attached`, `terminal.denied` or `terminal.revoked`. A grant is Allowed; a denial
 * is Blocked (status Failure, severity Low); a revocation is Denied with disposition
 * "Access Revoked".
 * @example terminalAccessEvent({ event: 'terminal.attached', workspaceId: 'ws-1', user, sessionId: 's-1',
 *   attachId: 'a-1', mode: 'shell' })
 */
export function terminalAccessEvent(input: TerminalAccessInput): OcsfEvent {
  const granted = input.event === 'terminal.attached';
  const revoked = input.event === 'terminal.revoked';
  return buildEvent(WEB_RESOURCES_ACTIVITY, input.event, 99, input, {
    activity_name: ACTIVITY_NAME[input.event],
    web_resources: [terminalResource(input.workspaceId, input.mode, input.attachId)],
    src_endpoint: input.source && endpointObject(input.source),
    severity_id: granted ? 1 : 2,
    status_id: granted || revoked ? 1 : 2,
    status: granted || revoked ? 'Success' : 'Failure',
    status_code: input.reasonCode,
    status_detail: input.reason,
    action_id: granted ? 1 : 2,
    action: granted ? 'Allowed' : 'Denied',
    disposition_id: granted ? 1 : revoked ? 24 : 2,
    disposition: granted ? 'Allowed' : revoked ? 'Access Revoked' : 'Blocked',
    unmapped: input.attachId ? { paddock: { attach_id: input.attachId, mode: input.mode } } : undefined,
  });
}

export interface TerminalRecordedInput extends AuditContext {
  readonly workspaceId: string;
  readonly user: AuditUser;
  readonly sessionId: string;
  readonly attachId: string;
  /** Where the recording is stored (outside the workspace), as the broker wrote it. */
  readonly path: string;
  /** Lower-case hex SHA-256 of the whole recording file. */
  readonly sha256: string;
  readonly sizeBytes: number;
  /** When the terminal was attached and closed, milliseconds since the epoch. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The shell's exit status, when it exited by itself. */
  readonly exitCode?: number | null;
  /** Why the terminal closed, e.g. `exited`, `client_closed`, `session_revoked`. */
  readonly closeReason: string;
}

/**
 * `terminal.recorded`: the broker sealed a terminal's asciicast recording. Paddock's broker
 * is the actor (it wrote the file); the user and session are named in `actor.user` and
 * `actor.session` too, since the recording is of their terminal.
 * @example terminalRecordedEvent({ workspaceId: 'ws-1', user, sessionId: 's-1', attachId: 'a-1',
 *   path: '/var/lib/paddock/recordings/a-1.cast', sha256, sizeBytes: 812, startedAt, endedAt, closeReason: 'exited' })
 */
export function terminalRecordedEvent(input: TerminalRecordedInput): OcsfEvent {
  return buildEvent(FILE_SYSTEM_ACTIVITY, 'terminal.recorded', 1, input, {
    actor: {
      ...paddockActor('access broker'),
      user: { uid: input.user.uid, name: input.user.name, type_id: 1, type: 'User' },
      session: { uid: input.sessionId },
    },
    file: {
      name: basename(input.path),
      path: input.path,
      type_id: 1,
      type: 'Regular File',
      size: input.sizeBytes,
      mime_type: 'application/x-asciicast',
      hashes: [{ algorithm_id: 3, algorithm: 'SHA-256', value: input.sha256 }],
    },
    start_time: input.startedAt,
    end_time: input.endedAt,
    duration: Math.max(0, input.endedAt - input.startedAt),
    status_id: 1,
    status: 'Success',
    status_code: input.closeReason,
    unmapped: {
      paddock: { attach_id: input.attachId, exit_code: input.exitCode ?? undefined },
    },
  });
}

export interface HostTerminalInput extends AuditContext {
  readonly event: 'terminal.host_logon' | 'terminal.host_logoff';
  readonly workspaceId: string;
  /** The Paddock user the terminal was opened for. */
  readonly user: AuditUser;
  /** The host's local account the terminal logs in as. */
  readonly account: string;
  readonly mode: TerminalMode;
  /** The broker's id for this attach: joins the broker's `terminal.attached`. */
  readonly attachId: string;
  /** The host's OpenSSH server (loopback). */
  readonly server: AuditEndpoint;
  /** A logon that could not be made (the server did not answer, the client is missing). */
  readonly failure?: { readonly reasonCode: string; readonly reason?: string };
  /** For the logoff: the terminal's exit status (the remote shell's, through the client), null when it broke. */
  readonly exitCode?: number | null;
  /** For the logoff: when the terminal opened and ended, milliseconds since the epoch. */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/**
 * `terminal.host_logon` or `terminal.host_logoff`: a terminal on the host's own OpenSSH server.
 * In `shell` mode the supervisor logs in with its own key (public key authentication); in
 * `ssh` mode it relays the user's SSH client, which authenticates end to end, so the method is
 * not the supervisor's to report.
 * @example hostTerminalEvent({ event: 'terminal.host_logon', workspaceId: 'ws-1', user, account: 'paddock',
 *   mode: 'shell', attachId: 'a-1', server: { ip: '127.0.0.1', port: 22 } })
 */
export function hostTerminalEvent(input: HostTerminalInput): OcsfEvent {
  const failed = input.failure !== undefined;
  const logoff = input.event === 'terminal.host_logoff';
  return buildEvent(AUTHENTICATION, input.event, logoff ? 2 : 1, input, {
    actor: { ...paddockActor('workspace supervisor'), user: userObject(input.user) },
    user: { name: input.account, type_id: 1, type: 'User' },
    dst_endpoint: endpointObject(input.server),
    service: { name: 'OpenSSH server (host)' },
    logon_type_id: 10,
    logon_type: 'Remote Interactive',
    auth_protocol_id: input.mode === 'shell' ? 99 : undefined,
    auth_protocol: input.mode === 'shell' ? 'SSH public key' : undefined,
    is_remote: true,
    start_time: input.startedAt,
    end_time: input.endedAt,
    duration:
      input.startedAt !== undefined && input.endedAt !== undefined
        ? Math.max(0, input.endedAt - input.startedAt)
        : undefined,
    severity_id: failed ? 2 : 1,
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_code: input.failure?.reasonCode,
    status_detail: input.failure?.reason,
    unmapped: {
      paddock: {
        attach_id: input.attachId,
        mode: input.mode,
        account: input.account,
        exit_code: input.exitCode ?? undefined,
      },
    },
  });
}
