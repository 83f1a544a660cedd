import { existsSync } from 'node:fs';
import type { ParseArgsOptionsConfig } from 'node:util';
import { PaddockError } from '../../core/errors.ts';
import type { ReviewStatusName } from '../../policy/index.ts';
import { ENV } from '../../core/index.ts';
import {
  localLogin,
  REVIEW_SOCKETS_DIR,
  reviewSocketClient,
  type ReviewSocketClient,
  reviewSocketsClient,
} from '../../supervisor/index.ts';
import { type Command, type CommandContext, JSON_HELP, JSON_OPTION } from '../command.ts';
import { controlPlaneReviewClient } from '../control-plane-reviews.ts';
import { writeJson } from '../output.ts';
import { renderAnswer, renderList, renderShow } from '../review-render.ts';
import { resolveClientSession, savedSessionPath } from '../saved-session.ts';

// `paddock review list|show|approve|deny`: the reviewer's side of review gates, against the
// control plane's review API (reviewers signed in by SSO) or, in standalone mode, against the
// review sockets of running `paddock run`s (docs/reviews.md, "Commands").

const SOCKET_OPTION = { socket: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;
const SERVER_OPTION = { server: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;
const TARGET_HELP = `      --server URL   the control plane at URL (default: see "Which queue" above)
      --socket PATH  one local run's review socket (local mode, even when signed in)`;
const STATUSES: readonly ReviewStatusName[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

const COMMON = `Which queue, in this order:
  1. --socket PATH: that local run's review socket (never the control plane).
  2. --server URL: the control plane at URL.
  3. $${ENV.server} or $${ENV.token} set, or a session \`paddock login\` saved
     ($${ENV.xdgConfigHome}/paddock/session.json): that control plane.
  4. Otherwise every local run's review socket, under $${ENV.reviewDir} or ${REVIEW_SOCKETS_DIR}
     (list gathers them all; an answer goes to the run that holds the review). The sockets
     are root's, so run it with sudo.
Against the control plane the token ($${ENV.token}, else the saved session's) says who you are,
the server decides what you may see and answer, and its coded errors are shown as it sent them.
Exit codes: 0 done, 1 refused or failed (the error names why), 2 usage error.`;

/** Where this command's requests come from, chosen as COMMON says. */
function client(ctx: CommandContext): { readonly server: boolean; readonly reviews: ReviewSocketClient } {
  const socket = ctx.values['socket'] as string | undefined;
  const server = ctx.values['server'] as string | undefined;
  if (socket !== undefined && server !== undefined)
    throw new PaddockError(
      'PDK_CLI_USAGE',
      '--socket (a local run) and --server (the control plane) exclude each other',
    );
  if (socket !== undefined) return { server: false, reviews: reviewSocketClient({ path: socket }) };
  const signedIn =
    server !== undefined ||
    Boolean(ctx.env[ENV.server]) ||
    Boolean(ctx.env[ENV.token]) ||
    existsSync(savedSessionPath(ctx.env));
  if (signedIn)
    return { server: true, reviews: controlPlaneReviewClient(resolveClientSession(ctx.env, server)) };
  return { server: false, reviews: reviewSocketsClient(ctx.env[ENV.reviewDir] || REVIEW_SOCKETS_DIR) };
}

function oneId(ctx: CommandContext, command: string): string {
  if (ctx.positionals.length !== 1) {
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `paddock review ${command} takes one review ID, got ${ctx.positionals.length}`,
    );
  }
  return ctx.positionals[0] as string;
}

/** `paddock review list`: the requests, oldest first. */
export const reviewListCommand: Command = {
  name: 'review list',
  summary: 'list held calls awaiting or past review',
  usage: '[--status STATUS] [--json] [--server URL | --socket PATH]',
  help: `Lists review requests oldest first: id, status, when the gate times out, who asked,
approvals so far and the held action. Timeouts that passed are applied first.

${COMMON}

Options:
      --status S     only pending, approved, denied, expired or cancelled requests
${JSON_HELP}
${TARGET_HELP}
`,
  options: { ...JSON_OPTION, ...SOCKET_OPTION, ...SERVER_OPTION, status: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock review list takes no arguments');
    const status = ctx.values['status'] as string | undefined;
    if (status !== undefined && !STATUSES.includes(status as ReviewStatusName)) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `--status must be one of ${STATUSES.join(', ')}, got "${status}"`,
      );
    }
    const views = await client(ctx).reviews.list({ status: status as ReviewStatusName | undefined });
    if (ctx.values['json']) writeJson(ctx.stdout, views);
    else ctx.stdout.write(renderList(views, status ? `no ${status} review requests` : 'no review requests'));
    return 0;
  },
};

/** `paddock review show ID`: everything a reviewer needs to decide. */
export const reviewShowCommand: Command = {
  name: 'review show',
  summary: 'show a held call: who, what, the redacted arguments, its digest and approvals',
  usage: 'ID [--json] [--server URL | --socket PATH]',
  help: `Shows one review request: requester, agent session and harness, blueprint, tool and
action, the deciding policies, the arguments as the blueprint's logging records them
(redacted; not at all for toolArguments none), the digest an approval is bound to, who may
answer, and the answers so far.

${COMMON}

Options:
${JSON_HELP}
${TARGET_HELP}
`,
  options: { ...JSON_OPTION, ...SOCKET_OPTION, ...SERVER_OPTION },
  async run(ctx) {
    const view = await client(ctx).reviews.show(oneId(ctx, 'show'));
    if (ctx.values['json']) writeJson(ctx.stdout, view);
    else ctx.stdout.write(renderShow(view));
    return 0;
  },
};

function answerCommand(verdict: 'approve' | 'deny'): Command {
  const effect =
    verdict === 'approve'
      ? `Approves a held call. Once minApprovals distinct reviewers approved, the agent's next
identical call (same session, same digest) goes through, once; a changed call needs a new
review.`
      : 'Denies a held call: one allowed reviewer suffices, and the identical call stays refused.';
  return {
    name: `review ${verdict}`,
    summary:
      verdict === 'approve' ? 'approve a held call (single use, bound to its digest)' : 'deny a held call',
    usage: 'ID --reason TEXT [--as USER] [--json] [--server URL | --socket PATH]',
    help: `${effect}

Who answers: against the control plane, the signed-in user (the token's), whose IdP groups
count for group: reviewers; --as is refused. Against a local socket, the local account
running this (SUDO_USER under sudo), or --as USER; the supervisor looks up that account's
local groups. Standalone mode cannot authenticate people: --as is recorded in the audit
trail as asserted by your account. The requester can never answer their own request
(refused and audited).

${COMMON}

Options:
      --reason TEXT  why (required; recorded with the answer and in the audit trail)
      --as USER      local socket only: answer as this reviewer (a user name or email the gate names)
${JSON_HELP}
${TARGET_HELP}
`,
    options: {
      ...JSON_OPTION,
      ...SOCKET_OPTION,
      ...SERVER_OPTION,
      reason: { type: 'string' },
      as: { type: 'string' },
    },
    async run(ctx) {
      const id = oneId(ctx, verdict);
      const reason = ctx.values['reason'] as string | undefined;
      if (reason === undefined)
        throw new PaddockError('PDK_CLI_USAGE', `paddock review ${verdict} needs --reason TEXT`);
      const as = ctx.values['as'] as string | undefined;
      const target = client(ctx);
      if (target.server && as !== undefined)
        throw new PaddockError(
          'PDK_CLI_USAGE',
          '--as is for local review sockets: the control plane answers as the signed-in user',
        );
      const view = await target.reviews.answer(verdict, id, { reason, login: localLogin(ctx.env), as });
      if (ctx.values['json']) writeJson(ctx.stdout, view);
      else ctx.stdout.write(renderAnswer(view, verdict));
      return 0;
    },
  };
}

/** `paddock review approve ID --reason TEXT [--as USER]`. */
export const reviewApproveCommand = answerCommand('approve');
/** `paddock review deny ID --reason TEXT [--as USER]`. */
export const reviewDenyCommand = answerCommand('deny');
