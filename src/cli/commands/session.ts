import { PaddockError } from '../../core/errors.ts';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';
import { resolveClientSession } from '../saved-session.ts';
import { callControlPlane } from '../control-plane-api.ts';

// `paddock session list|revoke`: control-plane sessions, through the API with the session
// `paddock login` saved. A user sees and revokes their own; an administrator anyone's.

interface SessionRow {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly lastSeenAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `paddock session list`. */
export const sessionListCommand: Command = {
  name: 'session list',
  summary: 'list active control-plane sessions (yours; an admin sees all)',
  usage: '[--server URL] [--json]',
  help: `Lists the active sessions: yours, or everyone's for an administrator. The current
session is marked with *. Needs \`paddock login\` first (or PADDOCK_SERVER and PADDOCK_TOKEN).

Options:
      --server URL   the control plane (default: the saved session's)
${JSON_HELP}
`,
  options: { ...JSON_OPTION, server: { type: 'string' } },
  async run(ctx) {
    const saved = resolveClientSession(ctx.env, ctx.values['server'] as string | undefined);
    const { sessions } = (await callControlPlane(saved.server, '/api/sessions', { token: saved.token })) as {
      sessions: SessionRow[];
    };
    const me = (await callControlPlane(saved.server, '/api/me', { token: saved.token })) as {
      session: { id: string };
    };
    if (ctx.values['json']) {
      writeJson(ctx.stdout, { sessions });
      return 0;
    }
    if (sessions.length === 0) {
      ctx.stdout.write('no active sessions\n');
      return 0;
    }
    ctx.stdout.write(
      `  ${'SESSION'.padEnd(44)} ${'USER'.padEnd(28)} ${'STARTED'.padEnd(21)} ${'EXPIRES'.padEnd(21)} LAST SEEN\n`,
    );
    for (const session of sessions) {
      const mark = session.id === me.session.id ? '*' : ' ';
      ctx.stdout.write(
        `${mark} ${session.id.padEnd(44)} ${session.userId.padEnd(28)} ${iso(session.createdAt).padEnd(21)} ${iso(session.expiresAt).padEnd(21)} ${iso(session.lastSeenAt)}\n`,
      );
    }
    return 0;
  },
};

/** `paddock session revoke`. */
export const sessionRevokeCommand: Command = {
  name: 'session revoke',
  summary: "revoke a control-plane session, or all of a user's",
  usage: 'SESSION_ID | --user EMAIL [--server URL]',
  help: `Revokes one session by id (from \`paddock session list\`), or every session of a user
with --user. Live terminals of a revoked session close within seconds. Yours only, unless
you are an administrator.

Options:
      --user EMAIL   revoke every session of this user
      --server URL   the control plane (default: the saved session's)
`,
  options: { user: { type: 'string' }, server: { type: 'string' } },
  async run(ctx) {
    const user = ctx.values['user'] as string | undefined;
    if ((user === undefined) === (ctx.positionals.length !== 1))
      throw new PaddockError('PDK_CLI_USAGE', 'paddock session revoke takes one SESSION_ID or --user EMAIL');
    const saved = resolveClientSession(ctx.env, ctx.values['server'] as string | undefined);
    if (user !== undefined) {
      const result = (await callControlPlane(
        saved.server,
        `/api/users/${encodeURIComponent(user)}/sessions`,
        {
          method: 'DELETE',
          token: saved.token,
        },
      )) as { revoked: number };
      ctx.stdout.write(`revoked ${result.revoked} session(s) of ${user}\n`);
      return 0;
    }
    const id = ctx.positionals[0] as string;
    await callControlPlane(saved.server, `/api/sessions/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      token: saved.token,
    });
    ctx.stdout.write(`revoked session ${id}\n`);
    return 0;
  },
};
