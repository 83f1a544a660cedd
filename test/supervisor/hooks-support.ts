import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { createDecisionPoint } from '../../src/policy/index.ts';
import {
  createPdpClient,
  type DecideFn,
  ensureHookClient,
  type Harness,
  type HookServerOptions,
  startHookServer,
} from '../../src/supervisor/hooks/index.ts';
import { startPdpServer } from '../../src/supervisor/pdp/index.ts';
import { type ExampleBlueprint, exampleBundles } from '../policy/pdp-fixtures.ts';

// Shared by the hook tests: the real `paddock hook` process, a hook server in front of either
// the real PDP server (an example blueprint's bundle) or a stand-in decision function.

export const ENTRY = new URL('../../bin/paddock.js', import.meta.url).pathname;
/** The native client, built on first use like the supervisor builds it. */
export const NATIVE_CLIENT = ensureHookClient();
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

const root = mkdtempSync(join(tmpdir(), 'paddock-hooks-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/** A fresh socket path in the test's temporary directory. */
export function socketPath(name = 'hook.sock'): string {
  return join(root, `${count++}-${name}`);
}

export interface HookRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** stdout parsed as JSON, or null when empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: the tests read each harness's answer JSON directly
  readonly json: any;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * Runs the hook client as a real process with `input` on stdin: `paddock hook HARNESS --socket
 * PATH` (Node.js) or the native client with the same arguments. `input` null leaves stdin open.
 */
export function runHook(
  harness: string,
  input: unknown,
  socket: string,
  extraArgs: string[] = [],
  client: 'node' | 'native' = 'node',
): Promise<HookRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const args = [harness, '--socket', socket, ...extraArgs];
    const child =
      client === 'native'
        ? spawn(NATIVE_CLIENT, args, { env: {} })
        : spawn(process.execPath, [ENTRY, 'hook', ...args], { env: {} });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({
        code,
        stdout,
        stderr,
        ms: performance.now() - started,
        json: parseJson(stdout),
      });
    });
    if (input === null) return;
    child.stdin.end(typeof input === 'string' || Buffer.isBuffer(input) ? input : JSON.stringify(input));
  });
}

/** A hook server whose decisions come from `decide` (a stand-in for the decision point). */
export async function standInHookServer(
  decide: DecideFn,
  options: Partial<Pick<HookServerOptions, 'decisionTimeoutMs' | 'socketPath' | 'onLocalDecision'>> = {},
): Promise<string> {
  const path = options.socketPath ?? socketPath();
  const server = await startHookServer({ decide, logger: quiet, ...options, socketPath: path });
  after(() => server.close());
  return path;
}

/**
 * The production chain: hook server → PDP socket client → real PDP server with the bundle of an
 * example blueprint. Returns the hook socket and the audit events the PDP emitted.
 */
export async function realPdpHookServer(
  blueprint: ExampleBlueprint,
): Promise<{ socket: string; events: OcsfEvent[] }> {
  const example = (await exampleBundles()).get(blueprint);
  if (!example) throw new Error(`no example blueprint ${blueprint}`);
  const events: OcsfEvent[] = [];
  const pdpSocket = socketPath('pdp.sock');
  const pdp = await startPdpServer({
    socketPath: pdpSocket,
    decisionPoint: createDecisionPoint(example.bundle),
    principal: { session: 'session-1', user: 'alice@example.com', groups: ['engineering'] },
    emit: (event) => events.push(event),
    audit: {
      workspaceId: 'ws-1',
      sessionId: 'session-1',
      blueprint: { name: blueprint, version: example.bundle.version },
    },
  });
  const client = createPdpClient({ socketPath: pdpSocket });
  const socket = socketPath();
  const hooks = await startHookServer({ socketPath: socket, decide: client.decide, logger: quiet });
  after(async () => {
    await hooks.close();
    client.close();
    await pdp.close();
  });
  return { socket, events };
}

/** The stdin of a tool event, with the fields every harness sends. */
export function toolEvent(
  harness: Harness,
  event: string,
  tool: string,
  input: unknown,
  extra: Record<string, unknown> = {},
) {
  const common = {
    session_id: 'abc123',
    transcript_path: '/home/agent/.session/transcript.jsonl',
    cwd: '/workspace',
    hook_event_name: event,
  };
  const byHarness: Record<Harness, Record<string, unknown>> = {
    'claude-code': { permission_mode: 'default', tool_use_id: 'toolu_01ABC123' },
    codex: { turn_id: 'turn-1', model: 'gpt-5-codex', permission_mode: 'default', tool_use_id: 'call_1' },
    gemini: { timestamp: '2026-11-25T10:30:00Z' },
  };
  return { ...common, ...byHarness[harness], tool_name: tool, tool_input: input, ...extra };
}
