// Admin: every workspace with its lifecycle actions, and every live session.
import { useState } from 'react';
import { type ApiError, request } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatTime, shorten } from '../format.ts';
import { type LiveSession, WORKSPACE_ACTIONS, type Workspace, type WorkspaceAction } from '../types.ts';
import { usePoll } from '../use-poll.ts';
import { allowedActions } from '../workspace-actions.ts';
import { runWorkspaceAction } from './workspace-page.tsx';

const ACTION_LABELS: Record<WorkspaceAction, string> = {
  start: 'Start',
  stop: 'Stop',
  rebuild: 'Rebuild',
  revoke: 'Revoke',
  decommission: 'Decommission',
};

/** What the confirmation says before an action that cannot be undone by its owner. */
const CONFIRMATIONS: Partial<Record<WorkspaceAction, string>> = {
  revoke:
    'Revoking stops the workspace, ends every session attached to it and drops its credentials. Its owner cannot undo this.',
  decommission: 'Decommissioning removes the workspace for good. Its recordings and audit trail are kept.',
  rebuild: "Rebuilding replaces the workspace's system from its profile's image. Running agents are stopped.",
};

type Pending =
  | { readonly kind: 'workspace'; readonly workspace: Workspace; readonly action: WorkspaceAction }
  | { readonly kind: 'session'; readonly session: LiveSession };

export function AdminPage() {
  const workspaces = usePoll(
    () => request<{ workspaces: Workspace[] }>('/api/workspaces').then((body) => body.workspaces),
    5000,
    'all-workspaces',
  );
  const sessions = usePoll(
    () => request<{ sessions: LiveSession[] }>('/api/sessions').then((body) => body.sessions),
    5000,
    'sessions',
  );
  const [pending, setPending] = useState<Pending>();
  const [error, setError] = useState<ApiError>();

  const runWorkspace = async (workspace: Workspace, action: WorkspaceAction) => {
    setError(undefined);
    try {
      await runWorkspaceAction(workspace.id, action);
    } catch (cause) {
      setError(cause as ApiError);
    }
    await workspaces.reload();
  };
  const revokeSession = async (session: LiveSession) => {
    setError(undefined);
    try {
      await request(`/api/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' });
    } catch (cause) {
      setError(cause as ApiError);
    }
    await sessions.reload();
  };
  const ask = (workspace: Workspace, action: WorkspaceAction) => {
    if (CONFIRMATIONS[action]) setPending({ kind: 'workspace', workspace, action });
    else void runWorkspace(workspace, action);
  };
  const confirm = () => {
    const current = pending;
    setPending(undefined);
    if (current?.kind === 'workspace') void runWorkspace(current.workspace, current.action);
    else if (current?.kind === 'session') void revokeSession(current.session);
  };

  return (
    <main className="page" data-testid="admin-page">
      <h1>Admin</h1>
      <ErrorBanner error={error} />
      <section className="panel" aria-labelledby="all-workspaces-heading">
        <h2 id="all-workspaces-heading">Workspaces</h2>
        <ErrorBanner error={workspaces.error} />
        {workspaces.data?.length === 0 ? <p className="muted">No workspaces.</p> : null}
        {workspaces.data && workspaces.data.length > 0 ? (
          <table className="table" data-testid="admin-workspaces">
            <thead>
              <tr>
                <th scope="col">Workspace</th>
                <th scope="col">Owner</th>
                <th scope="col">Profile</th>
                <th scope="col">State</th>
                <th scope="col">Supervisor</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {workspaces.data.map((workspace) => (
                <tr key={workspace.id} data-testid="admin-workspace-row" data-id={workspace.id}>
                  <td>
                    <code title={workspace.id}>{shorten(workspace.id, 16)}</code>
                  </td>
                  <td>{workspace.owner}</td>
                  <td>
                    {workspace.profile}
                    <div className="muted small">{workspace.provider}</div>
                  </td>
                  <td>
                    <StateBadge state={workspace.state} testId="admin-workspace-state" />
                  </td>
                  <td>{workspace.connected ? 'connected' : '—'}</td>
                  <td>{formatTime(workspace.updatedAt)}</td>
                  <td>
                    <div className="button-row compact">
                      {WORKSPACE_ACTIONS.map((action) => (
                        <button
                          key={action}
                          type="button"
                          className={`button small ${CONFIRMATIONS[action] ? 'danger' : 'secondary'}`}
                          disabled={!allowedActions(workspace.state).includes(action)}
                          onClick={() => ask(workspace, action)}
                          data-testid={`admin-workspace-${action}`}
                          aria-label={`${ACTION_LABELS[action]} ${workspace.id}`}
                        >
                          {ACTION_LABELS[action]}
                        </button>
                      ))}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <section className="panel" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Live sessions</h2>
        <ErrorBanner error={sessions.error} />
        {sessions.data?.length === 0 ? <p className="muted">No live sessions.</p> : null}
        {sessions.data && sessions.data.length > 0 ? (
          <table className="table" data-testid="admin-sessions">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Session</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">Expires</th>
                <th scope="col">Terminals</th>
                <th scope="col">
                  <span className="visually-hidden">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.map((session) => (
                <tr key={session.id} data-testid="admin-session-row" data-id={session.id}>
                  <td>{session.userId}</td>
                  <td>
                    <code title={session.id}>{shorten(session.id)}</code>
                  </td>
                  <td>{formatTime(session.createdAt)}</td>
                  <td>{formatTime(session.lastSeenAt)}</td>
                  <td>{formatTime(session.expiresAt)}</td>
                  <td>
                    {session.terminals && session.terminals.length > 0
                      ? session.terminals.map((terminal) => (
                          <div key={terminal.attachId} className="small">
                            <code title={terminal.workspaceId}>{shorten(terminal.workspaceId)}</code> since{' '}
                            {formatTime(terminal.startedAt)}
                          </div>
                        ))
                      : '—'}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button small danger"
                      onClick={() => setPending({ kind: 'session', session })}
                      data-testid="admin-session-revoke"
                      aria-label={`Revoke the session of ${session.userId}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      {pending?.kind === 'workspace' ? (
        <ConfirmDialog
          title={`${ACTION_LABELS[pending.action]} ${pending.workspace.id}?`}
          confirmLabel={ACTION_LABELS[pending.action]}
          onConfirm={confirm}
          onCancel={() => setPending(undefined)}
        >
          <p>{CONFIRMATIONS[pending.action]}</p>
          <p>
            Owner: <strong>{pending.workspace.owner}</strong>
          </p>
        </ConfirmDialog>
      ) : null}
      {pending?.kind === 'session' ? (
        <ConfirmDialog
          title={`Revoke the session of ${pending.session.userId}?`}
          confirmLabel="Revoke session"
          onConfirm={confirm}
          onCancel={() => setPending(undefined)}
        >
          <p>The user is signed out at once and their open terminals close within seconds.</p>
        </ConfirmDialog>
      ) : null}
    </main>
  );
}
