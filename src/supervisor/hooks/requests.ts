import type { DecisionRequest } from '../../policy/index.ts';
import { parsePatchPaths } from './apply-patch.ts';
import { resolveToolPath } from './paths.ts';
import { analyzeShell } from './shell/analyze.ts';
import type { HookEvent } from './types.ts';

// From a neutral tool call to decision requests (docs/policy.md, "Requests"): one per file,
// program, connection, URL or MCP tool. The caller asks the decision point about each and
// combines the answers. `via` says how a request arose, for the agent-facing message only.

export interface PlannedRequest {
  readonly request: DecisionRequest;
  /** E.g. "$(...)", "xargs > sh -c", "redirection"; null for the call itself. */
  readonly via: string | null;
}

export type RequestPlan =
  | { readonly ok: true; readonly requests: readonly PlannedRequest[] }
  /** `unverifiable`: a shell command the analysis could not follow (the message says how to retry). */
  | { readonly ok: false; readonly message: string; readonly unverifiable?: boolean };

export interface PlanOptions {
  /** The sandbox's HOME, for `~` in paths. */
  readonly home: string;
  /**
   * Shell words only known at run time (`"$X"`, `$(...)`, globs) are sent as written, so a deny
   * pattern with a literal word there cannot match them. `deny` makes such commands unverifiable
   * instead. Default `allow` (docs/hooks.md, "What fails closed").
   */
  readonly dynamicArguments?: 'allow' | 'deny';
}

const refuse = (message: string): RequestPlan => ({ ok: false, message });
const unverifiable = (reason: string, hint: string): RequestPlan => ({
  ok: false,
  unverifiable: true,
  message: `Paddock could not verify this command: ${reason}. It is too complex to check safely; to retry, ${hint}.`,
});

/** Quotes an argv so the shell parser reads back exactly these words. */
function quoteArgv(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
}

function shellPlan(
  event: HookEvent,
  command: string | readonly string[],
  cwdRaw: string | undefined,
  options: PlanOptions,
): RequestPlan {
  const cwd = cwdRaw === undefined ? event.cwd : resolveToolPath(cwdRaw, event.cwd, options.home);
  if (cwd === null) return refuse('the shell command has no absolute working directory');
  const source = typeof command === 'string' ? command : quoteArgv(command);
  const analysis = analyzeShell(source, { cwd, home: options.home });
  if (!analysis.ok) return unverifiable(analysis.reason, analysis.hint);
  const dynamic = analysis.execs.find((exec) => exec.dynamicArgs.length > 0);
  if (dynamic && options.dynamicArguments === 'deny')
    return unverifiable(
      `the argument ${JSON.stringify(dynamic.argv[dynamic.dynamicArgs[0] as number])} is only known at run time`,
      'write every argument literally',
    );
  const requests: PlannedRequest[] = [
    ...analysis.execs.map((exec) => ({
      request: { action: 'exec' as const, argv: exec.argv },
      via: exec.via,
    })),
    ...analysis.writes.map((path) => ({
      request: { action: 'write_file' as const, path },
      via: 'redirection',
    })),
    ...analysis.reads.map((path) => ({
      request: { action: 'read_file' as const, path },
      via: 'redirection',
    })),
    ...analysis.connects.map(({ host, port }) => ({
      request: { action: 'connect' as const, host, port },
      via: '/dev/tcp',
    })),
  ];
  return requests.length > 0 ? { ok: true, requests } : refuse('the command runs nothing');
}

function fetchPlan(event: HookEvent, urls: readonly string[]): RequestPlan {
  const requests: PlannedRequest[] = [];
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return refuse(`${JSON.stringify(raw)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return refuse(`${url.protocol} URLs are not fetched`);
    requests.push({ request: { action: 'http_request', method: 'GET', url: url.href }, via: null });
  }
  return requests.length > 0 ? { ok: true, requests } : refuse(`${event.toolName} names no URL`);
}

/**
 * The decision requests for one hook event.
 * @example planRequests(event, { home: '/home/agent' }) // { ok: true, requests: [{ request: { action: 'exec', argv: ['git', 'status'] }, via: null }] }
 */
export function planRequests(event: HookEvent, options: PlanOptions): RequestPlan {
  const call = event.call;
  const paths = (raw: readonly string[], action: 'read_file' | 'write_file'): RequestPlan => {
    const requests: PlannedRequest[] = [];
    for (const path of raw) {
      const resolved = resolveToolPath(path, event.cwd, options.home);
      if (resolved === null)
        return refuse(`the path ${JSON.stringify(path)} of ${event.toolName} is not a usable path`);
      requests.push({ request: { action, path: resolved }, via: null });
    }
    return requests.length > 0 ? { ok: true, requests } : refuse(`${event.toolName} names no file`);
  };
  switch (call.kind) {
    case 'read':
      return paths(call.paths, 'read_file');
    case 'write':
      return paths(call.paths, 'write_file');
    case 'patch': {
      const files = parsePatchPaths(call.patch);
      return files.length > 0
        ? paths(files, 'write_file')
        : refuse('the patch names no file (expected "*** Update File: PATH" lines)');
    }
    case 'shell':
      return shellPlan(event, call.command, call.cwd, options);
    case 'fetch':
      return fetchPlan(event, call.urls);
    case 'search':
      return refuse(
        `${event.toolName} runs a web search outside the workspace's egress policy, which cannot name it yet; fetch a specific URL instead`,
      );
    case 'mcp':
      return {
        ok: true,
        requests: [
          {
            request: {
              action: 'mcp_call',
              server: call.server,
              tool: call.tool,
              arguments: call.arguments ?? {},
            },
            via: null,
          },
        ],
      };
    case 'inert':
      return { ok: true, requests: [] };
    case 'invalid':
      return refuse(call.reason);
  }
}
