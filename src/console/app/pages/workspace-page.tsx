// My workspace: status, start/stop, a live terminal, recent activity and my recordings.
import { useState } from 'react';
import { type ApiError, request } from '../api.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { RecordingPlayer } from '../components/recording-player.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { TerminalPanel } from '../components/terminal-panel.tsx';
import { formatBytes, formatTime, shorten } from '../format.ts';
import type { ActivityEvent, Me, Recording, Workspace, WorkspaceAction } from '../types.ts';
import { usePoll } from '../use-poll.ts';
import { sameUserId } from '../users.ts';
import { allowedActions, canOpenTerminal } from '../workspace-actions.ts';

export function runWorkspaceAction(id: string, action: WorkspaceAction): Promise<Workspace> {
  return request<Workspace>(`/api/workspaces/${encodeURIComponent(id)}/actions/${action}`, {
    method: 'POST',
  });
}

export function WorkspacePage({ me }: { readonly me: Me }) {
  const workspaces = usePoll(
    () => request<{ workspaces: Workspace[] }>('/api/workspaces').then((body) => body.workspaces),
    5000,
    'workspaces',
  );
  // Admins list every workspace; this page is about the signed-in user's own.
  const mine = workspaces.data?.filter((workspace) => sameUserId(workspace.owner, me.user.id));

  return (
    <main className="page" data-testid="workspace-page">
      <h1>My workspace</h1>
      <ErrorBanner error={workspaces.error} />
      {mine === undefined ? (
        <p className="muted">Loading…</p>
      ) : mine.length === 0 ? (
        <p data-testid="no-workspace">
          You have no workspace yet. Ask a platform admin to assign you a profile.
        </p>
      ) : (
        mine.map((workspace) => (
          <WorkspaceView key={workspace.id} workspace={workspace} onChanged={workspaces.reload} />
        ))
      )}
    </main>
  );
}

function WorkspaceView({ workspace, onChanged }: { workspace: Workspace; onChanged: () => Promise<void> }) {
  const [terminalOpen, setTerminalOpen] = useState(false);
  const [busy, setBusy] = useState<WorkspaceAction>();
  const [actionError, setActionError] = useState<ApiError>();

  const act = async (action: WorkspaceAction) => {
    setBusy(action);
    setActionError(undefined);
    try {
      await runWorkspaceAction(workspace.id, action);
      await onChanged();
    } catch (error) {
      setActionError(error as ApiError);
    } finally {
      setBusy(undefined);
    }
  };
  const allowed = allowedActions(workspace.state);

  return (
    <>
      <section
        className="panel"
        aria-labelledby="status-heading"
        data-testid="workspace"
        data-id={workspace.id}
      >
        <div className="panel-header">
          <h2 id="status-heading">Status</h2>
          <StateBadge state={workspace.state} testId="workspace-state" />
        </div>
        <dl className="facts">
          <dt>Workspace</dt>
          <dd data-testid="workspace-id">{workspace.id}</dd>
          <dt>Profile</dt>
          <dd>{workspace.profile}</dd>
          <dt>Provider</dt>
          <dd>{workspace.provider}</dd>
          <dt>Supervisor</dt>
          <dd data-testid="workspace-connected">{workspace.connected ? 'connected' : 'not connected'}</dd>
          <dt>Updated</dt>
          <dd>{formatTime(workspace.updatedAt)}</dd>
        </dl>
        <div className="button-row">
          <button
            type="button"
            className="button secondary"
            disabled={busy !== undefined || !allowed.includes('start')}
            onClick={() => act('start')}
            data-testid="workspace-start"
          >
            {busy === 'start' ? 'Starting…' : 'Start'}
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={busy !== undefined || !allowed.includes('stop')}
            onClick={() => act('stop')}
            data-testid="workspace-stop"
          >
            {busy === 'stop' ? 'Stopping…' : 'Stop'}
          </button>
          <button
            type="button"
            className="button"
            disabled={terminalOpen || !canOpenTerminal(workspace.state)}
            onClick={() => setTerminalOpen(true)}
            data-testid="terminal-open"
          >
            Open terminal
          </button>
        </div>
        <ErrorBanner error={actionError} />
      </section>
      {terminalOpen ? (
        <TerminalPanel workspaceId={workspace.id} onClose={() => setTerminalOpen(false)} />
      ) : null}
      <ActivityList workspaceId={workspace.id} />
      <RecordingList workspaceId={workspace.id} />
    </>
  );
}

function ActivityList({ workspaceId }: { workspaceId: string }) {
  const activity = usePoll(
    () =>
      request<{ events: ActivityEvent[] }>(
        `/api/workspaces/${encodeURIComponent(workspaceId)}/activity?limit=50`,
      ).then((body) => body.events),
    10_000,
    workspaceId,
  );
  return (
    <section className="panel" aria-labelledby="activity-heading" data-testid="activity">
      <h2 id="activity-heading">Recent activity</h2>
      <ErrorBanner error={activity.error} />
      {activity.data?.length === 0 ? <p className="muted">Nothing recorded yet.</p> : null}
      {activity.data && activity.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Summary</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {activity.data.map((event, index) => (
              // Events have no id in this view; time + position is stable between polls.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above.
              <tr key={`${event.time}-${index}`} data-testid="activity-row">
                <td>{formatTime(event.time)}</td>
                <td>
                  {event.className} · {event.activity}
                </td>
                <td>{event.summary}</td>
                <td>{event.decision ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function sizeOf(recording: Recording): string {
  const bytes = recording.sizeBytes ?? recording.bytes;
  return bytes === undefined ? '—' : formatBytes(bytes);
}

function RecordingList({ workspaceId }: { workspaceId: string }) {
  const [playing, setPlaying] = useState<string>();
  const recordings = usePoll(
    () =>
      request<{ recordings: Recording[] }>(
        `/api/recordings?workspace=${encodeURIComponent(workspaceId)}`,
      ).then((body) => body.recordings),
    15_000,
    workspaceId,
  );
  return (
    <section className="panel" aria-labelledby="recordings-heading" data-testid="recordings">
      <h2 id="recordings-heading">My recordings</h2>
      <ErrorBanner error={recordings.error} />
      {recordings.data?.length === 0 ? <p className="muted">No terminal sessions recorded yet.</p> : null}
      {recordings.data && recordings.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">
                <span className="visually-hidden">Play</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {recordings.data.map((recording) => (
              <tr key={recording.id} data-testid="recording-row" data-id={recording.id}>
                <td>{formatTime(recording.startedAt)}</td>
                <td>{recording.endedAt ? formatTime(recording.endedAt) : 'live'}</td>
                <td>{sizeOf(recording)}</td>
                <td>
                  <code title={recording.sha256 ?? ''}>
                    {recording.sha256 ? shorten(recording.sha256) : '—'}
                  </code>
                </td>
                <td>
                  <button
                    type="button"
                    className="button secondary small"
                    onClick={() => setPlaying(recording.id)}
                    data-testid="recording-open"
                  >
                    Play
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {playing ? <RecordingPlayer recordingId={playing} onClose={() => setPlaying(undefined)} /> : null}
    </section>
  );
}
