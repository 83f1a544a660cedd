import { basename } from 'node:path';
import { PRODUCT_NAME, PRODUCT_VENDOR, PRODUCT_VERSION } from '../../core/version.ts';
import type { AuditContext, AuditEndpoint, AuditUser } from './types.ts';

// Builders for the OCSF objects several classes share (user, actor, device, endpoint, product).
// Each returns plain data; undefined members are pruned by the base builder.

/** OCSF `user`: the identity provider's subject as uid, login as name. */
export function userObject(user: AuditUser): Record<string, unknown> {
  return {
    uid: user.uid,
    name: user.name,
    email_addr: user.email,
    groups: user.groups?.map((name) => ({ name })),
    type_id: 1,
    type: 'User',
  };
}

/**
 * OCSF `actor` from the context: the user, the session and the agent harness. Undefined when
 * the context names none of them (OCSF requires at least one).
 */
export function actorObject(ctx: AuditContext): Record<string, unknown> | undefined {
  if (!ctx.user && !ctx.sessionId && !ctx.harness) return undefined;
  return {
    user: ctx.user && userObject(ctx.user),
    session: ctx.sessionId ? { uid: ctx.sessionId } : undefined,
    app_name: ctx.harness,
  };
}

/** OCSF `actor` for Paddock itself acting (an expired review, a restarted supervisor). */
export function paddockActor(component: string): Record<string, unknown> {
  return { app_name: `${PRODUCT_NAME} ${component}` };
}

/** OCSF `device` for a workspace: a virtual device whose uid is the workspace id. */
export function workspaceDevice(workspaceId: string | undefined): Record<string, unknown> | undefined {
  return workspaceId === undefined ? undefined : { uid: workspaceId, type_id: 6, type: 'Virtual' };
}

/** OCSF `network_endpoint`. */
export function endpointObject(endpoint: AuditEndpoint): Record<string, unknown> {
  return { ip: endpoint.ip, hostname: endpoint.hostname, port: endpoint.port };
}

/** The agent sandbox as a network endpoint (source of egress), identified by its workspace. */
export function sandboxEndpoint(workspaceId: string, ip?: string): Record<string, unknown> {
  return { uid: workspaceId, name: 'sandbox', ip };
}

/** OCSF `product` for a Paddock component (`app` in Application Lifecycle, `metadata.product`). */
export function paddockProduct(component?: string, uid?: string, version?: string): Record<string, unknown> {
  return {
    name: component ? `${PRODUCT_NAME} ${component}` : PRODUCT_NAME,
    uid,
    vendor_name: PRODUCT_VENDOR,
    version: version ?? PRODUCT_VERSION,
  };
}

/** Quotes one argv element for display when it holds anything beyond a safe shell word. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** OCSF `process` for a command: name from argv[0], cmd_line shell-quoted, pid and uid when known. */
export function processObject(
  argv: readonly string[],
  ids: { pid?: number; uid?: string },
): Record<string, unknown> {
  const program = argv[0] ?? '';
  return {
    name: basename(program) || program,
    cmd_line: argv.map(shellQuote).join(' '),
    pid: ids.pid,
    uid: ids.uid,
    file: program.includes('/') ? fileObject(program) : undefined,
  };
}

const FILE_TYPES = {
  file: [1, 'Regular File'],
  directory: [2, 'Folder'],
  symlink: [7, 'Symbolic Link'],
} as const;

/** The kinds of file system object Paddock reports; unknown when the path was never opened. */
export type AuditFileType = keyof typeof FILE_TYPES;

/** OCSF `file` for a path inside the sandbox. */
export function fileObject(path: string, type?: AuditFileType): Record<string, unknown> {
  const [typeId, typeCaption] = type ? FILE_TYPES[type] : [0, 'Unknown'];
  return { name: basename(path) || path, path, type_id: typeId, type: typeCaption };
}

/** OCSF `url` from an absolute URL; credentials in the userinfo part are never recorded. */
export function urlObject(href: string): Record<string, unknown> {
  const url = new URL(href);
  url.username = '';
  url.password = '';
  const defaultPort = url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : undefined;
  return {
    url_string: url.href,
    scheme: url.protocol.replace(/:$/, ''),
    hostname: url.hostname,
    port: url.port ? Number(url.port) : defaultPort,
    path: url.pathname,
    query_string: url.search ? url.search.slice(1) : undefined,
  };
}

const SEVERITY: Readonly<Record<number, string>> = {
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
};

/** The caption OCSF pairs with a severity_id. */
export function severityCaption(severityId: number): string {
  return SEVERITY[severityId] ?? 'Unknown';
}
