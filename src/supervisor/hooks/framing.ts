import { MAX_HOOK_INPUT_BYTES } from './constants.ts';
import { HARNESSES, type Harness, type HookAnswer } from './types.ts';

// The hook socket's framing, spoken by the JavaScript client (client.js) and the native one
// (native/paddock-hook.c), so neither has to escape or parse JSON:
//
//   → PADDOCK-HOOK 1 <harness>\n<the harness's stdin, raw>      then the client half-closes
//   ← PADDOCK-HOOK 1 <exitCode> <stdoutBytes> <stderrBytes>\n<stdout><stderr>   then close
//
// exitCode is 0 or 2; an answer with exit code 2 carries a non-empty stderr (the reason).

export const REQUEST_MAGIC = 'PADDOCK-HOOK 1';
const REQUEST_HEADER = /^PADDOCK-HOOK 1 ([a-z-]{1,32})$/;
/** Longest request header line, bytes (without the newline). */
export const MAX_HEADER_BYTES = 64;

export type ParsedRequest =
  | { readonly harness: Harness; readonly input: string }
  | { readonly error: string };

const decoder = new TextDecoder('utf-8');

/** Reads a complete request (header line and body). Invalid UTF-8 in the body becomes U+FFFD. */
export function parseRequest(bytes: Buffer): ParsedRequest {
  const newline = bytes.subarray(0, MAX_HEADER_BYTES + 1).indexOf(0x0a);
  if (newline === -1) return { error: 'the request has no header line' };
  const header = REQUEST_HEADER.exec(bytes.subarray(0, newline).toString('latin1'));
  if (!header) return { error: 'the request header is malformed' };
  const harness = header[1] as Harness;
  if (!HARNESSES.includes(harness)) return { error: `unknown harness ${JSON.stringify(harness)}` };
  if (bytes.length - newline - 1 > MAX_HOOK_INPUT_BYTES) return { error: 'the hook input is too large' };
  return { harness, input: decoder.decode(bytes.subarray(newline + 1)) };
}

/** The reply bytes for an answer. */
export function encodeReply(answer: HookAnswer): Buffer {
  const stdout = Buffer.from(answer.stdout, 'utf8');
  const stderr = Buffer.from(answer.stderr, 'utf8');
  const header = `${REQUEST_MAGIC} ${answer.exitCode} ${stdout.length} ${stderr.length}\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), stdout, stderr]);
}
