import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { PaddockError } from '../../core/errors.ts';
import { sameUser } from '../../policy/index.ts';
import type { RecentActivity } from '../activity/recent-activity.ts';
import type { TerminalBroker } from '../broker/terminal-broker.ts';
import { listRecordings, readRecording } from '../broker/recording.ts';
import type { ChannelServer } from '../channel/channel-server.ts';
import type { Principal } from '../identity/principal.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import { isWorkspaceAction, type WorkspaceLifecycle } from '../workspaces/index.ts';
import type { Route } from './route-table.ts';
import type { UpgradeRoute } from './upgrade-routes.ts';

// Workspaces as people reach them: their own (an administrator: all), the lifecycle actions,
// recent activity, terminal recordings, and the terminal itself. Who may do what is declared
// on each route; what remains in the handlers is the finer rule (only administrators
// decommission, a recording is its user's or its workspace owner's).

export interface WorkspaceRouteDeps {
  readonly store: Store;
  readonly lifecycle: WorkspaceLifecycle;
  readonly activity: RecentActivity;
  /** DATA_DIR/recordings, where the broker writes. */
  readonly recordingsDir: string;
  /** The workspaces' channel: their SSH host keys come from their connected supervisors. */
  readonly channel: ChannelServer;
}

export interface TerminalRouteDeps {
  readonly broker: TerminalBroker;
  readonly channel: ChannelServer;
  readonly sessions: SessionManager;
}

const MAX_ACTIVITY = 200;
/** Typing counts as activity for the session's idle timeout, noted at most this often. */
const ACTIVITY_NOTE_MS = 15_000;

function mustBe(principal: Principal | undefined): Principal {
  if (!principal) throw new PaddockError('PDK_AUTH_REQUIRED');
  return principal;
}

export function workspaceRoutes(deps: WorkspaceRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/workspaces',
      access: 'user',
      async handler({ principal }) {
        const me = mustBe(principal);
        return { json: { workspaces: await deps.lifecycle.list(me.admin ? {} : { owner: me.userId }) } };
      },
    },
    {
      method: 'GET',
      path: '/api/workspaces/:workspaceId',
      access: 'owner',
      adminAllowed: true,
      async handler({ params }) {
        return { json: await deps.lifecycle.get(params['workspaceId'] as string) };
      },
    },
    {
      method: 'POST',
      path: '/api/workspaces/:workspaceId/actions/:action',
      access: 'owner',
      adminAllowed: true,
      async handler({ principal, params }) {
        const me = mustBe(principal);
        const action = params['action'] as string;
        if (!isWorkspaceAction(action))
          throw new PaddockError(
            'PDK_HTTP_NOT_FOUND',
            `no workspace action "${action}" (start, stop, rebuild, revoke, decommission)`,
          );
        // Decommissioning deletes the workspace's data: the owner may stop, rebuild or revoke
        // (the kill switch), but only an administrator removes.
        if (action === 'decommission' && !me.admin)
          throw new PaddockError('PDK_AUTH_FORBIDDEN', 'only an administrator may decommission a workspace');
        return { json: await deps.lifecycle.act(me.userId, params['workspaceId'] as string, action) };
      },
    },
    {
      method: 'GET',
      path: '/api/workspaces/:workspaceId/activity',
      access: 'owner',
      adminAllowed: true,
      handler({ params, url }) {
        const asked = Number(url.searchParams.get('limit') ?? 50);
        const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_ACTIVITY) : 50;
        return { json: { events: deps.activity.recent(params['workspaceId'] as string, limit) } };
      },
    },
    {
      method: 'GET',
      path: '/api/workspaces/:workspaceId/ssh-host-key',
      access: 'owner',
      adminAllowed: true,
      handler({ params }) {
        const workspaceId = params['workspaceId'] as string;
        return { json: sshHostKeyView(workspaceId, deps.channel.sshHostKey(workspaceId)) };
      },
    },
    {
      method: 'GET',
      path: '/api/recordings',
      access: 'user',
      async handler({ principal, url }) {
        const me = mustBe(principal);
        const workspaceId = url.searchParams.get('workspace') ?? undefined;
        const all = await listRecordings(deps.recordingsDir, workspaceId ? { workspaceId } : {});
        const mine = [];
        for (const info of all) if (await maySee(deps.store, me, info)) mine.push(info);
        return { json: { recordings: mine } };
      },
    },
    {
      method: 'GET',
      path: '/api/recordings/:recordingId',
      access: 'user',
      async handler({ principal, params, res }) {
        const me = mustBe(principal);
        const recording = await readRecording(deps.recordingsDir, params['recordingId'] as string);
        // Someone else's recording is reported as missing: its existence is not theirs to learn.
        if (!(await maySee(deps.store, me, recording.info)))
          throw new PaddockError('PDK_BROKER_RECORDING_NOT_FOUND', 'no recording with that id');
        res.writeHead(200, {
          'Content-Type': 'application/x-asciicast',
          'Cache-Control': 'no-store',
          ...(recording.info.sha256 ? { 'X-Paddock-SHA256': recording.info.sha256 } : {}),
        });
        const stream = recording.open();
        stream.on('error', () => res.destroy());
        stream.pipe(res);
        return undefined;
      },
    },
  ];
}

/**
 * The workspace's SSH host key as a client pins it: the key, its OpenSSH SHA-256 fingerprint,
 * and a known_hosts line for the name `paddock connect --stdio %h` is given (the workspace id).
 */
function sshHostKeyView(workspaceId: string, hostKey: string) {
  const blob = Buffer.from(hostKey.split(' ')[1] as string, 'base64');
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { workspaceId, hostKey, fingerprint, knownHosts: `${workspaceId} ${hostKey}` };
}

/** A recording is its user's, its workspace owner's, and any administrator's to see. */
async function maySee(
  store: Store,
  me: Principal,
  info: { readonly userId: string; readonly workspaceId: string },
): Promise<boolean> {
  if (me.admin || sameUser(info.userId, me.userId)) return true;
  const workspace = await store.getWorkspace(info.workspaceId);
  return workspace !== undefined && sameUser(workspace.owner, me.userId);
}

/** The browser's and `paddock connect`'s terminal: the owner only (administrators included only if it is theirs). */
export function terminalRoute(deps: TerminalRouteDeps): UpgradeRoute {
  return {
    path: '/api/workspaces/:workspaceId/terminal',
    access: 'owner',
    handle(socket: WebSocket, ctx) {
      const principal = ctx.principal as Principal;
      let noted = 0;
      socket.on('message', () => {
        const now = Date.now();
        if (now - noted < ACTIVITY_NOTE_MS) return;
        noted = now;
        deps.sessions.recordActivity(principal.sessionId);
      });
      const target = deps.channel.target(ctx.params['workspaceId'] as string);
      deps.broker.attachWebSocket(socket, ctx.req, principal, target).catch(() => socket.terminate());
    },
  };
}
