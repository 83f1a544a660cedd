// The hook client: `paddock hook <claude-code|codex|gemini> [--socket PATH]`, run by the harness
// for every tool call. It forwards its stdin to the supervisor's hook server and prints the
// answer (framing: framing.ts; native/paddock-hook.c is the same client in C). It fails closed: any problem (no socket, no answer within 2 s of process start, a
// malformed answer, too much input) exits 2 with the reason on stderr, which Claude Code, Codex
// and Gemini CLI all treat as "block this call".
//
// Plain JavaScript on purpose: loading one TypeScript file makes Node.js start its type-stripping
// transpiler, about 100 ms per process, and this runs once per tool call (docs/hooks.md,
// "Latency"). Types: client.d.ts. Constants mirror constants.ts (a test keeps them equal).
import { connect } from 'node:net';

export const HARNESSES = ['claude-code', 'codex', 'gemini'];
export const DEFAULT_SOCKET = '/run/paddock/hook.sock';
export const TIMEOUT_MS = 2000;
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const MAX_REPLY_BYTES = 4 * 1024 * 1024;
const MAGIC = 'PADDOCK-HOOK 1';

class Refusal extends Error {}

/** @param {string} why @param {string} fix @returns {Refusal} */
function refusal(why, fix) {
  return new Refusal(`Paddock denied this call: ${why} (PDK_HOOK_UNAVAILABLE). ${fix}`);
}

/** @param {string[]} argv */
function parseArgs(argv) {
  const [harness, ...rest] = argv;
  if (!harness || !HARNESSES.includes(harness))
    throw refusal(
      `unknown harness ${JSON.stringify(harness ?? '')}`,
      `Run \`paddock hook ${HARNESSES.join('|')}\`.`,
    );
  let socket = DEFAULT_SOCKET;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    if (arg === '--socket' && rest[i + 1]) socket = rest[++i];
    else if (arg?.startsWith('--socket=')) socket = arg.slice('--socket='.length);
    else
      throw refusal(
        `unknown argument ${JSON.stringify(arg)}`,
        'The managed hook settings are wrong; regenerate them with `paddock hook install`.',
      );
  }
  return { harness, socket };
}

/** @param {NodeJS.ReadableStream} stdin @param {number} deadline @returns {Promise<Buffer>} */
function readInput(stdin, deadline) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    const timer = setTimeout(
      () =>
        reject(
          refusal(
            `the hook input did not end within ${TIMEOUT_MS} ms`,
            'Retry; if it persists, the workspace supervisor needs attention.',
          ),
        ),
      Math.max(0, deadline - performance.now()),
    );
    stdin.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > MAX_INPUT_BYTES) {
        clearTimeout(timer);
        reject(
          refusal(
            `the hook input exceeds ${MAX_INPUT_BYTES} bytes`,
            'Split the change into smaller tool calls.',
          ),
        );
      } else chunks.push(chunk);
    });
    stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    stdin.on('error', (/** @type {Error} */ error) => {
      clearTimeout(timer);
      reject(refusal(`the hook input could not be read (${error.message})`, 'Retry the call.'));
    });
  });
}

/** @param {string} socketPath @param {Buffer} request @param {number} deadline @returns {Promise<Buffer>} */
function ask(socketPath, request, deadline) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    const socket = connect(socketPath);
    const fail = (/** @type {Refusal} */ error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          refusal(
            `the Paddock supervisor did not answer within ${TIMEOUT_MS} ms`,
            'Retry; if it persists, the workspace supervisor needs attention.',
          ),
        ),
      Math.max(0, deadline - performance.now()),
    );
    socket.on('connect', () => socket.end(request));
    socket.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES)
        fail(refusal('the supervisor answer is too large', 'Report this to the workspace administrator.'));
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', (/** @type {NodeJS.ErrnoException} */ error) =>
      fail(
        refusal(
          `the Paddock supervisor is unreachable at ${socketPath} (${error.code ?? error.message})`,
          'Run the agent inside a Paddock sandbox whose supervisor is running.',
        ),
      ),
    );
  });
}

/**
 * Reads `PADDOCK-HOOK 1 <exit> <stdoutBytes> <stderrBytes>\n<stdout><stderr>` (framing.ts).
 * @param {Buffer} reply @returns {{ stdout: Buffer, stderr: Buffer, exitCode: 0 | 2 }}
 */
function readReply(reply) {
  const newline = reply.subarray(0, 64).indexOf(0x0a);
  const header =
    newline === -1
      ? null
      : /^PADDOCK-HOOK 1 ([02]) (\d{1,10}) (\d{1,10})$/.exec(reply.subarray(0, newline).toString('latin1'));
  if (!header)
    throw refusal('the supervisor answer is malformed', 'Report this to the workspace administrator.');
  const exitCode = header[1] === '2' ? 2 : 0;
  const outBytes = Number(header[2]);
  const errBytes = Number(header[3]);
  const body = reply.subarray(newline + 1);
  const stderr = body.subarray(outBytes);
  if (body.length !== outBytes + errBytes || (exitCode === 2 && stderr.toString('utf8').trim() === ''))
    throw refusal('the supervisor answer is malformed', 'Report this to the workspace administrator.');
  return { stdout: body.subarray(0, outBytes), stderr, exitCode };
}

/** @param {NodeJS.WritableStream} stream @param {string | Buffer} data @returns {Promise<void>} */
function write(stream, data) {
  return new Promise((resolve) => (data.length === 0 ? resolve() : stream.write(data, () => resolve())));
}

/**
 * Runs one hook call; resolves to the exit code (0 or 2) after the answer is written.
 * @param {string[]} argv the arguments after `hook`
 * @param {{ stdin: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} [io]
 * @returns {Promise<0 | 2>}
 */
export async function runHookClient(
  argv,
  io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
) {
  // 2 s from process start; a caller that starts late (the full CLI, a test) still gets 1 s.
  const deadline = Math.max(TIMEOUT_MS, performance.now() + TIMEOUT_MS / 2);
  try {
    const { harness, socket } = parseArgs(argv);
    const input = await readInput(io.stdin, deadline);
    const request = Buffer.concat([Buffer.from(`${MAGIC} ${harness}\n`, 'latin1'), input]);
    const answer = readReply(await ask(socket, request, deadline));
    await write(io.stdout, answer.stdout);
    await write(io.stderr, answer.stderr);
    return answer.exitCode;
  } catch (error) {
    const message =
      error instanceof Refusal
        ? error.message
        : `Paddock denied this call: the hook client failed (PDK_INTERNAL).`;
    await write(io.stderr, `${message}\n`);
    return 2;
  }
}
