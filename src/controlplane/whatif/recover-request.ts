import type { DecisionKind, DecisionRequest, PolicyPrincipal } from '../../policy/index.ts';

// An audited decision event back into the request the decision point was asked. Every decision
// event names its action's inputs (docs/audit-events.md): exec → process.cmd_line (argv, each
// word shell-quoted), read/write_file → file.path and the activity, connect → dst_endpoint,
// http_request → http_request.http_method and url, mcp_call → api.service.name, api.operation
// and api.request.data (the arguments, when the blueprint's logging recorded them). The
// principal is actor.user and actor.session; the blueprint is unmapped.paddock.blueprint, else
// the bundle id's `name:` prefix.

/** A decision as the audit log recorded it, with what it takes to ask again. */
export interface RecordedDecision {
  readonly uid: string;
  readonly time: number;
  readonly eventCode: string;
  readonly decision: DecisionKind;
  readonly blueprint: string;
  readonly workspace?: string;
  readonly request: DecisionRequest;
  /** Bundle that decided then. */
  readonly bundle?: { readonly id: string; readonly version: string };
  /**
   * Inputs the event could not carry exactly (MCP arguments not recorded, a redacted command
   * or URL): the replay is then of what was recorded, and says so.
   */
  readonly inexact?: string;
}

export type Recovery = { readonly decision: RecordedDecision } | { readonly skip: string };

const DECISIONS: Readonly<Record<string, DecisionKind>> = {
  allowed: 'allow',
  denied: 'deny',
  review_requested: 'review',
};
const FAMILIES = new Set(['exec', 'file', 'egress', 'http', 'mcp']);
const REDACTED = /\[REDACTED\]|\*\*\*\*/;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The words of a command line as `processObject` writes it (bare words, POSIX single quotes). */
export function splitCommandLine(line: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0) return undefined;
      word += line.slice(index + 1, end);
      index = end;
      inWord = true;
    } else if (char === '\\') {
      // Only inside the `'\''` sequence, which the quote branch above reaches as `\'`.
      if (line[index + 1] !== "'") return undefined;
      word += "'";
      index++;
      inWord = true;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words.length > 0 ? words : undefined;
}

function principalOf(event: Json): PolicyPrincipal | undefined {
  const actor = obj(event['actor']);
  const user = obj(actor?.['user']);
  const uid = str(user?.['uid']);
  if (!uid) return undefined;
  const groups = Array.isArray(user?.['groups'])
    ? (user['groups'] as unknown[])
        .map((group) => str(obj(group)?.['name']))
        .filter((name) => name !== undefined)
    : [];
  return { user: uid, session: str(obj(actor?.['session'])?.['uid']) ?? 'replay', groups };
}

function blueprintOf(event: Json): string | undefined {
  const named = str(obj(obj(obj(event['unmapped'])?.['paddock'])?.['blueprint'])?.['name']);
  if (named) return named;
  const bundle = str(obj(event['policy'])?.['uid']);
  const colon = bundle?.indexOf(':') ?? -1;
  return colon > 0 ? bundle!.slice(0, colon) : undefined;
}

/** The request and recorded decision of one OCSF event, or why it cannot be replayed. */
export function recoverDecision(event: Json, fallbackTime = 0): Recovery {
  const metadata = obj(event['metadata']);
  const eventCode = str(metadata?.['event_code']) ?? '';
  const dot = eventCode.indexOf('.');
  const family = eventCode.slice(0, dot);
  const decision = DECISIONS[eventCode.slice(dot + 1)];
  if (!FAMILIES.has(family) || !decision) return { skip: 'not a decision event' };
  // A gateway event of a standalone run may name no user: replayed as user "unknown", flagged.
  const named = principalOf(event);
  const principal = named ?? {
    user: 'unknown',
    session: str(obj(obj(event['actor'])?.['session'])?.['uid']) ?? 'replay',
    groups: [],
  };
  const blueprint = blueprintOf(event);
  if (!blueprint) return { skip: 'no blueprint on the event' };
  let request: DecisionRequest | undefined;
  let inexact: string | undefined;
  switch (family) {
    case 'exec': {
      const line = str(obj(event['process'])?.['cmd_line']);
      const argv = line === undefined ? undefined : splitCommandLine(line);
      if (argv) request = { action: 'exec', argv, principal };
      if (line && REDACTED.test(line)) inexact = 'the command line was redacted';
      break;
    }
    case 'file': {
      const path = str(obj(event['file'])?.['path']);
      const activity = event['activity_id'];
      if (path && (activity === 2 || activity === 3))
        request = { action: activity === 2 ? 'read_file' : 'write_file', path, principal };
      break;
    }
    case 'egress': {
      const destination = obj(event['dst_endpoint']);
      const host = str(destination?.['hostname']) ?? str(destination?.['ip']);
      const port = destination?.['port'];
      if (host && typeof port === 'number') request = { action: 'connect', host, port, principal };
      break;
    }
    case 'http': {
      const http = obj(event['http_request']);
      const method = str(http?.['http_method']);
      const url = str(obj(http?.['url'])?.['url_string']);
      if (method && url) request = { action: 'http_request', method, url, principal };
      if (url && REDACTED.test(url)) inexact = 'the URL was redacted';
      break;
    }
    case 'mcp': {
      const api = obj(event['api']);
      const server = str(obj(api?.['service'])?.['name']);
      const tool = str(api?.['operation']);
      const recorded = obj(api?.['request']);
      if (server && tool) {
        const args = recorded && 'data' in recorded ? recorded['data'] : undefined;
        request = {
          action: 'mcp_call',
          server,
          tool,
          ...(args === undefined ? {} : { arguments: args }),
          principal,
        };
        if (args === undefined) inexact = 'the tool arguments were not recorded (replayed as {})';
        else if (REDACTED.test(JSON.stringify(args))) inexact = 'the tool arguments were redacted';
      }
      break;
    }
  }
  if (!request) return { skip: `the ${family} event lacks its request` };
  if (!named) inexact = inexact ? `${inexact}; the event names no user` : 'the event names no user';
  const policy = obj(event['policy']);
  const bundleId = str(policy?.['uid']);
  const workspace = str(obj(event['device'])?.['uid']);
  return {
    decision: {
      uid: str(metadata?.['uid']) ?? '',
      time: typeof event['time'] === 'number' ? event['time'] : fallbackTime,
      eventCode,
      decision,
      blueprint,
      ...(workspace ? { workspace } : {}),
      request,
      ...(bundleId ? { bundle: { id: bundleId, version: str(policy?.['version']) ?? '' } } : {}),
      ...(inexact ? { inexact } : {}),
    },
  };
}
