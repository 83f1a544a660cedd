import { type HttpDecisionInput, httpDecisionEvent, type OcsfEvent } from '../../audit/index.ts';
import { newId, systemClock } from '../../core/index.ts';

// HTTP Activity events on the inspected path, one per request, built cheaply: the audit
// layer's builder costs more than forwarding a small request does. The first request of a
// kind (same context, decision, destination and method) is built by httpDecisionEvent and
// kept, frozen, as a template; the next ones copy it and replace only what differs per
// request: time, uid, URL, user agent and status. The parts that never differ are shared
// between events, frozen so no consumer can change one event through another. A URL the
// copy could not render exactly as the builder's WHATWG parse does (dot segments,
// characters the parser escapes, hosts it rewrites) goes to the builder. Tests hold the
// copies equal, key for key, to what the builder makes.

const MAX_TEMPLATES = 256;
/** Inputs the copy replaces (or, for the user agent, keys on only whether it is there). */
const PER_REQUEST = new Set(['time', 'uid', 'url', 'userAgent', 'responseCode']);

type Template = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export class HttpEventCache {
  private readonly templates = new Map<string, Template>();

  build(input: HttpDecisionInput): OcsfEvent {
    const url = simpleUrlObject(input.url);
    // Without a destination the builder takes host and port from the URL: not a template's job.
    if (!url || input.responseCode === undefined || !input.destination) return httpDecisionEvent(input);
    const key = templateKey(input);
    const template = this.templates.get(key);
    if (!template) {
      const event = httpDecisionEvent(input);
      if (this.templates.size >= MAX_TEMPLATES) this.templates.clear();
      this.templates.set(key, templateOf(event));
      return event;
    }
    const request: Record<string, unknown> = { ...template['http_request'], url };
    if (input.userAgent !== undefined) request['user_agent'] = input.userAgent;
    return {
      ...template,
      time: input.time ?? systemClock.now(),
      metadata: { ...template['metadata'], uid: input.uid ?? newId() },
      http_request: request,
      http_response: { ...template['http_response'], code: input.responseCode },
    } as unknown as OcsfEvent;
  }
}

/** Everything that shapes the event except what the copy replaces. */
function templateKey(input: HttpDecisionInput): string {
  const parts: unknown[] = [input.userAgent === undefined];
  const record = input as unknown as Record<string, unknown>;
  for (const name in record) if (!PER_REQUEST.has(name)) parts.push(name, record[name]);
  return JSON.stringify(parts);
}

/** Objects copied per event stay unfrozen (V8 spreads frozen objects slowly); what is shared is frozen. */
const COPIED = new Set(['metadata', 'http_request', 'http_response']);

function templateOf(event: OcsfEvent): Template {
  // Spread first: an object built key by key can end up in V8's slow dictionary mode.
  const record = event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...record };
  for (const name in record) {
    const value = record[name];
    if (!COPIED.has(name) || typeof value !== 'object' || value === null) out[name] = frozenCopy(value);
    else {
      const copied: Record<string, unknown> = { ...value };
      for (const inner in value) copied[inner] = frozenCopy((value as Record<string, unknown>)[inner]);
      out[name] = copied;
    }
  }
  return out as Template;
}

/** A deep, deeply frozen copy of plain JSON data. */
function frozenCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy));
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const name in record) out[name] = frozenCopy(record[name]);
  return Object.freeze(out);
}

// What the WHATWG parser leaves exactly as written: a lower-case name (no IDNA labels, not
// ending in a number, which it would read as IPv4), a dotted-quad IPv4, a non-default port
// without leading zeros, and a path and query of characters it does not escape, without dot
// segments (which it resolves) or backslashes (which it turns into slashes).
const SIMPLE_URL =
  /^(https?):\/\/((?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?::([1-9]\d{0,4}))?(\/[A-Za-z0-9\-._~!$&()*+,;=:@%/[\]]*)(\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?[\]]*)?$/;
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** The OCSF url object for `href` without parsing it, or undefined when it is not simple. */
export function simpleUrlObject(href: string): Record<string, unknown> | undefined {
  const match = SIMPLE_URL.exec(href);
  if (!match) return undefined;
  const [, scheme, hostname, portText, path, query] = match as unknown as [
    string,
    'http' | 'https',
    string,
    string | undefined,
    string,
    string | undefined,
  ];
  if (hostname.includes('xn--') || DOT_SEGMENT.test(path)) return undefined;
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port > 65535 || (portText !== undefined && port === defaultPort)) return undefined;
  const out: Record<string, unknown> = {
    url_string: href,
    scheme,
    hostname,
    port,
    path,
  };
  if (query !== undefined && query.length > 1) out['query_string'] = query.slice(1);
  return out;
}
