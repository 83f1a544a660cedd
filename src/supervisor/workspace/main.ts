import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditChainWriter, componentEvent, type OcsfEvent } from '../../audit/index.ts';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { createLogger } from '../../core/log.ts';
import { ChannelClient } from './channel-client.ts';
import { ChannelReviewGate } from './channel-review-gate.ts';
import { openSandboxTerminal, type WorkspaceTerminal } from './pty-terminal.ts';
import { openSshdTerminal } from './sshd-terminal.ts';
import { loadWorkspaceSandbox } from './workspace-sandbox.ts';
import { prepareSshd, SSH_SANDBOX_DIR } from './workspace-sshd.ts';

// The per-workspace supervisor process the local provider runs (`node main.ts --config FILE`):
// it dials the control plane and opens each terminal it is asked for in a new sandbox. SIGTERM
// hangs up every terminal, waits for their sandboxes to be torn down, and exits.

const log = createLogger('workspace-supervisor');

/** How long a stop waits for the terminals' sandboxes to go. */
const STOP_GRACE_MS = 8000;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  if (!values.config) {
    process.stderr.write('usage: main.ts --config FILE\n');
    return 2;
  }
  const config = JSON.parse(readFileSync(values.config, 'utf8')) as WorkspaceSupervisorConfig;
  const orphaned = () => process.ppid !== config.providerPid;
  if (orphaned()) return 0;
  const writer = await AuditChainWriter.open(config.auditLog);
  const audit = (event: OcsfEvent) => writer.append(event);
  // Review-gated calls are held in the control plane's queue, asked over the channel.
  let client: ChannelClient | undefined;
  const reviews = new ChannelReviewGate({
    send: (message) => client?.sendReviewRequest(message) ?? false,
    audit,
  });
  const runFor = await loadWorkspaceSandbox(config, audit, reviews);
  // SSH (`mode: 'ssh'`): the host key is the workspace's, made once, kept outside its home.
  const sshDir = join(dirname(config.auditLog), 'ssh');
  let sshHostKey: string | undefined;
  let sshUnavailable: Error | undefined;
  try {
    sshHostKey = prepareSshd(sshDir);
  } catch (error) {
    sshUnavailable = error as Error;
    log.warn({ error: sshUnavailable.message }, 'SSH into this workspace is unavailable');
  }
  const terminals = new Set<Promise<void>>();
  const live = new Set<WorkspaceTerminal>();
  let stopping = false;

  client = new ChannelClient({
    url: config.channelUrl,
    workspaceId: config.workspaceId,
    identityFile: config.identityFile,
    ...(sshHostKey ? { sshHostKey } : {}),
    openTerminal: async (request) => {
      if (stopping) throw new Error('supervisor is stopping');
      const run = runFor(request.userId);
      let terminal: WorkspaceTerminal;
      if (request.mode === 'ssh') {
        if (sshUnavailable) throw sshUnavailable;
        terminal = await openSshdTerminal({
          run: {
            ...run,
            readOnlyBinds: [...(run.readOnlyBinds ?? []), { host: sshDir, dest: SSH_SANDBOX_DIR }],
          },
        });
      } else {
        terminal = await openSandboxTerminal({ cols: request.cols, rows: request.rows, run });
      }
      live.add(terminal);
      const ended = new Promise<void>((resolve) => terminal.onExit(() => resolve()));
      terminals.add(ended);
      void ended.then(() => {
        live.delete(terminal);
        terminals.delete(ended);
      });
      log.info({ attach: request.attachId, user: request.userId, mode: request.mode }, 'terminal opened');
      return terminal;
    },
    onRevoked: () => void stop(0),
    onReviewAnswer: (message) => reviews.onAnswer(message),
    onDisconnected: () => reviews.onDisconnected(),
  });
  const channel = client;

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  async function stop(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    channel.stop();
    for (const terminal of live) terminal.close();
    await Promise.race([
      Promise.all(terminals),
      new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS)),
    ]);
    await writer.close();
    resolveDone(code);
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  // The provider that started this supervisor is gone (the control plane died): a new one
  // starts its own supervisor with a new identity, so this one must not linger.
  setInterval(() => {
    if (orphaned()) void stop(0);
  }, 1000).unref();

  await audit(
    componentEvent({
      event: 'supervisor.started',
      componentId: `${config.workspaceId}/${process.pid}`,
      workspaceId: config.workspaceId,
      message: `workspace supervisor for ${config.workspaceId} started (pid ${process.pid})`,
    }),
  );
  channel.start();
  return done;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log.error({ error: error.message }, 'workspace supervisor failed');
    process.exit(1);
  },
);
