import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { PaddockError } from '../../core/index.ts';
import type { SecretStore } from '../egress/index.ts';
import type { McpServerPlan } from './types.ts';

// A remote MCP server over Streamable HTTP. The supervisor makes the requests, so the service's
// credential is added here, on every request, from the secret store: the agent only ever talks
// to the gateway and never holds the secret or a placeholder for it. The credential goes only to
// the configured origin: the SDK follows no redirect that leaves it, and the fetch below refuses
// to add the credential to any other origin should one be asked for.

/** Header the credential goes in when the service names none; sent as `Bearer SECRET`. */
const DEFAULT_HEADER = 'authorization';

/**
 * Opens a transport to `server` (connection http). The secret is read at each request, so a
 * rotated secret applies at once; a missing one fails the request with PDK_SECRET_NOT_FOUND.
 * @example const transport = httpUpstream(plan, secrets); await client.connect(transport);
 */
export function httpUpstream(server: McpServerPlan, secrets: SecretStore | undefined): Transport {
  const connection = server.connection;
  if (connection.transport !== 'http') throw new Error(`${server.name} is not an http server`);
  const url = new URL(connection.url);
  const credential = server.credential;
  if (credential !== undefined && secrets === undefined) {
    throw new PaddockError(
      'PDK_MCP_UPSTREAM',
      `MCP server "${server.name}" needs credential "${credential}" but the gateway has no secret store`,
    );
  }
  const header = server.credentialHeader ?? DEFAULT_HEADER;
  const withCredential: FetchLike = async (target, init) => {
    if (credential === undefined || secrets === undefined) return fetch(target, init);
    if (new URL(target).origin !== url.origin) {
      throw new PaddockError(
        'PDK_MCP_UPSTREAM',
        `MCP server "${server.name}" asked for a request to another origin; the credential is sent only to ${url.origin}`,
      );
    }
    const secret = await secrets.get(credential);
    const headers = new Headers(init?.headers);
    headers.set(header, header === DEFAULT_HEADER ? `Bearer ${secret}` : secret);
    return fetch(target, { ...init, headers });
  };
  return new StreamableHTTPClientTransport(url, {
    fetch: withCredential,
    redirectPolicy: 'same-origin',
  });
}
