import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import type { ReviewerIdentity } from '../../policy/index.ts';

// Who someone is in standalone mode, where there is no identity provider: the local account.
// `paddock run` and `paddock review` run as root (sudo), so the person is SUDO_USER when root
// ran it through sudo, else the account itself. Groups come from the system's group database
// (`id -Gn`, so NSS sources such as LDAP or sssd count), resolved by the supervisor, never
// taken from the client.

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,255}$/;

/**
 * The local person behind this process: SUDO_USER when running as root through sudo, else the
 * effective account's name.
 * @example localLogin(process.env) // 'alice' under `sudo paddock review list`
 */
export function localLogin(env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? -1): string {
  const sudoUser = env['SUDO_USER'];
  if (uid === 0 && sudoUser && NAME.test(sudoUser) && sudoUser !== 'root') return sudoUser;
  return userInfo().username;
}

/**
 * The local groups of `account` by `id -Gn`; none when no such account exists (an email given
 * with `--as` names no local account) or the lookup fails or takes over `timeoutMs` (default 5000).
 */
export function localGroups(account: string, timeoutMs = 5000): Promise<readonly string[]> {
  if (!NAME.test(account) || account.includes('@')) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile(
      'id',
      ['-Gn', '--', account],
      { timeout: timeoutMs, env: { PATH: '/usr/bin:/bin' } },
      (error, stdout) => {
        resolve(error ? [] : stdout.trim().split(/\s+/).filter(Boolean));
      },
    );
  });
}

/** Resolves an account's groups; tests inject one. */
export type GroupResolver = (account: string) => Promise<readonly string[]>;

/**
 * The reviewer for an answer on the socket: `as` when given (recorded as asserted by `login`),
 * else `login`; groups are the named account's local groups.
 */
export async function localReviewer(
  login: string,
  as: string | undefined,
  groupsOf: GroupResolver,
): Promise<ReviewerIdentity> {
  const id = as ?? login;
  const groups = await groupsOf(id);
  return as === undefined || as === login
    ? { id, name: login, groups }
    : { id, groups, assertedBy: `asserted with --as by local user ${login}` };
}
