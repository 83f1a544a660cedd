import { PaddockError } from '../../core/index.ts';
import type { Admitted, GatewayCore } from './admission.ts';
import { injectCredential } from './credentials.ts';
import { type HeaderField, headerValue, type RequestHead } from './http-head.ts';

// What the gateway changes in an allowed request before it goes upstream, and nothing
// more: the request line in origin form, the proxy's own hop-by-hop headers removed, and
// for a credentialed service the credential injected (and Accept-Encoding set to identity,
// so the response can be checked for the credential being echoed back). Every other field
// is forwarded exactly as received.

const PROXY_HOP_HEADERS = new Set(['proxy-connection', 'proxy-authorization', 'keep-alive']);

export interface PreparedRequest {
  readonly head: Buffer;
  /** Whether this is a WebSocket upgrade (GET with Upgrade: websocket). */
  readonly upgrade: boolean;
  /** Byte strings that must not come back to the client (the secret as injected). */
  readonly guard: readonly Buffer[];
}

/** Builds the head to send upstream. Rejects with PDK_SECRET_NOT_FOUND when the credential is missing. */
export async function prepareRequest(
  core: GatewayCore,
  admitted: Admitted,
  head: RequestHead,
  originTarget: string,
): Promise<PreparedRequest> {
  let fields: HeaderField[] = head.fields.filter((field) => !PROXY_HOP_HEADERS.has(field.lower));
  const guard: Buffer[] = [];
  const credential = admitted.service.credential;
  if (credential) {
    const binding = core.placeholders.forCredential(credential);
    if (!core.secrets || !binding) {
      throw new PaddockError('PDK_SECRET_NOT_FOUND', `no secret store holds credential "${credential}"`);
    }
    const secret = await core.secrets.get(credential);
    const header = admitted.service.credentialHeader;
    fields = injectCredential(fields, header, binding.placeholder, secret);
    fields = fields.filter((field) => field.lower !== 'accept-encoding');
    fields.push({ name: 'Accept-Encoding', lower: 'accept-encoding', value: 'identity' });
    // The secret as injected: raw, or base64 inside Basic credentials.
    const injected = fields.find((field) => field.lower === header)!.value;
    guard.push(Buffer.from(secret, 'latin1'));
    const basic = /^basic\s+(\S+)$/i.exec(injected);
    if (basic) guard.push(Buffer.from(basic[1]!, 'latin1'));
  }
  let text = `${head.method} ${originTarget} HTTP/${head.version}\r\n`;
  for (const field of fields) text += `${field.name}: ${field.value}\r\n`;
  const upgrade = head.method === 'GET' && headerValue(head, 'upgrade')?.toLowerCase() === 'websocket';
  return { head: Buffer.from(`${text}\r\n`, 'latin1'), upgrade, guard };
}
