import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../identity/principal.ts';
import type { SessionView } from '../sessions/session-manager.ts';

// The declarative route table: every API route says who may call it, and the server enforces
// that before the handler runs. Access levels:
//   anonymous  anyone (sign-in plumbing)
//   user       any signed-in user (the handler may narrow further, e.g. to their own records)
//   owner      the signed-in user owns the workspace named by the path's :workspaceId
//   reviewer   the signed-in user is a reviewer (some review gate names them)
//   admin      the signed-in user is in identity.adminGroups
// `adminAllowed` lets administrators through an owner or reviewer route as well.

export type Access = 'anonymous' | 'user' | 'owner' | 'reviewer' | 'admin';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler gets. `principal` is set for every access level but anonymous (where it may be). */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly principal: Principal | undefined;
  readonly session: SessionView | undefined;
  /** How the caller authenticated: the console's cookie or a bearer token (CLI). */
  readonly via: 'cookie' | 'bearer' | undefined;
  /** The JSON body (at most 64 KiB); PDK_HTTP_BAD_REQUEST when it is not JSON. */
  body(): Promise<unknown>;
}

/** What a handler answers: JSON (default status 200), a redirect, or nothing when it wrote the response itself. */
export type RouteResult =
  | {
      readonly status?: number;
      readonly json: unknown;
      readonly headers?: Readonly<Record<string, string | string[]>>;
    }
  | { readonly redirect: string; readonly headers?: Readonly<Record<string, string | string[]>> }
  | { readonly status: 204; readonly headers?: Readonly<Record<string, string | string[]>> }
  | undefined;

export interface Route {
  readonly method: Method;
  /** A path with `:name` segments, e.g. `/api/reviews/:reviewId/approve`. */
  readonly path: string;
  readonly access: Access;
  /** Owner and reviewer routes: administrators pass too. Default false. */
  readonly adminAllowed?: boolean;
  handler(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

const SEGMENT = '([^/]+)';

/** Routes compiled once; lookups try them in order. */
export class RouteTable {
  readonly #routes: CompiledRoute[] = [];

  add(routes: readonly Route[]): void {
    for (const route of routes) {
      if (!route.path.startsWith('/')) throw new Error(`route path ${route.path} must start with /`);
      if (route.access === 'owner' && !route.path.includes(':workspaceId'))
        throw new Error(`owner route ${route.method} ${route.path} needs a :workspaceId segment`);
      if (
        this.#routes.some((other) => other.route.method === route.method && other.route.path === route.path)
      )
        throw new Error(`route ${route.method} ${route.path} is registered twice`);
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((part) => {
          if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(part.slice(1));
          return SEGMENT;
        })
        .join('/');
      this.#routes.push({ route, pattern: new RegExp(`^${source}$`), names });
    }
  }

  /** Every route, in registration order (the authorization matrix test compares against this). */
  list(): readonly Route[] {
    return this.#routes.map((compiled) => compiled.route);
  }

  /** The route for a method and path; `allowed` lists the methods the path has when none matches. */
  match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { route: undefined; allowed: Method[] } {
    const allowed: Method[] = [];
    for (const { route, pattern, names } of this.#routes) {
      const found = pattern.exec(path);
      if (!found) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      let valid = true;
      names.forEach((name, index) => {
        try {
          params[name] = decodeURIComponent(found[index + 1] as string);
        } catch {
          valid = false;
        }
      });
      if (valid) return { route, params };
    }
    return { route: undefined, allowed };
  }
}
