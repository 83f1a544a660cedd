import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { componentEvent } from '../../audit/index.ts';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { isPaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { type ChannelBundleUpdates, channelBundleUpdates, PolicyHolder } from '../policy/index.ts';
import { ChannelAuditTransport, startAuditShipping } from './channel-audit-transport.ts';
import { ChannelClient } from './channel-client.ts';
import { ChannelReviewGate } from './channel-review-gate.ts';
import type { WorkspaceTerminal } from './pty-terminal.ts';
import { openWorkspaceAudit } from './workspace-audit.ts';
import { openWorkspaceSecrets } from './workspace-secrets.ts';
import { workspaceTerminals } from './workspace-terminals.ts';

// The per-workspace supervisor process the local provider runs (`node main.ts --config FILE`):
// it dials the control plane and opens each terminal it is asked for in a new sandbox, or on
// the host's own OpenSSH server where the config says so, with the workspace's egress gateway
// on loopback as that account's way out (workspace-terminals.ts). SIGTERM
// hangs up every terminal, waits for them to end, and exits. Every event it
// records is redacted per the blueprint's `logging`, made durable in the workspace's audit
// spool, and shipped over the channel to the control plane's central store.

const log = createLogger('workspace-supervisor');

/** How long a stop waits for the terminals' sandboxes to go. */
const STOP_GRACE_MS = 8000;
/** How long a stop tries to ship what the spool still holds (the rest ships on the next start). */
const FINAL_SHIP_MS = 2000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, 'provider-pid': { type: 'string' } },
  });
  const config = values.config
    ? (JSON.parse(readFileSync(values.config, 'utf8')) as WorkspaceSupervisorConfig)
    : undefined;
  // A service wrapper (Windows guests: config providerPid 0) names itself on the command line.
  const providerPid =
    values['provider-pid'] === undefined ? config?.providerPid : Number(values['provider-pid']);
  if (!config || !Number.isSafeInteger(providerPid) || (providerPid as number) <= 0) {
    process.stderr.write(
      'usage: main.ts --config FILE [--provider-pid PID] (a config with providerPid 0 needs --provider-pid)\n',
    );
    return 2;
  }
  // A wrapper that started this supervisor with an IPC channel (Windows' service loop) is gone
  // once the channel is: Windows keeps a dead parent's pid as ppid, so that check alone misses it.
  const withIpc = process.connected;
  const orphaned = () => process.ppid !== providerPid || (withIpc && !process.connected);
  if (orphaned()) return 0;
  // The secret store (config.secrets), decrypted once; a store that cannot be opened, or one the
  // sandbox could read, stops the supervisor here, before anything else starts.
  const secrets = await openWorkspaceSecrets(config);
  // Every event, redacted (the store's credential values too), into this workspace's
  // hash-chained spool (workspace-audit.ts).
  const { spool, audit } = await openWorkspaceAudit(config, secrets);
  // Review-gated calls are held in the control plane's queue, asked over the channel.
  let client: ChannelClient | undefined;
  const auditTransport = new ChannelAuditTransport({
    send: (message) => client?.sendAuditBatch(message) ?? false,
    onTimeout: () => client?.reconnect('audit batch unanswered'),
  });
  const reviews = new ChannelReviewGate({
    send: (message) => client?.sendReviewRequest(message) ?? false,
    audit,
  });
  // Signed releases: the policy in force is the last verified bundle (deny-all before one).
  let updates: ChannelBundleUpdates | undefined;
  const holder = config.releases ? new PolicyHolder() : undefined;
  if (config.releases && holder)
    updates = channelBundleUpdates({
      channel: config.releases.channel,
      blueprint: config.blueprint,
      stateDir: config.releases.stateDir,
      initialRoot: readFileSync(config.releases.rootFile),
      holder,
      send: (message) => client?.sendRelease(message) ?? false,
      workspaceId: config.workspaceId,
      audit: (event) => {
        void audit(event).catch((error: Error) => log.error({ error: error.message }, 'audit append failed'));
      },
    });
  const opener = await workspaceTerminals(config, {
    audit,
    reviews,
    ...(holder ? { holder } : {}),
    ...(secrets ? { secrets } : {}),
  });
  const terminals = new Set<Promise<void>>();
  const live = new Set<WorkspaceTerminal>();
  let stopping = false;

  client = new ChannelClient({
    url: config.channelUrl,
    workspaceId: config.workspaceId,
    identityFile: config.identityFile,
    ...(opener.sshHostKey ? { sshHostKey: opener.sshHostKey } : {}),
    openTerminal: async (request) => {
      if (stopping) throw new Error('supervisor is stopping');
      const terminal = await opener.open(request);
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
    onRelease: (message) => updates?.onRelease(message),
    onAuditReply: (message) => auditTransport.onReply(message),
    onConnected: () => {
      updates?.onConnected();
      shipping.kick();
    },
    onDisconnected: () => {
      auditTransport.onDisconnected();
      reviews.onDisconnected();
      updates?.onDisconnected();
    },
  });
  const channel = client;
  const shipping = startAuditShipping({
    spool,
    transport: auditTransport,
    connected: () => channel.connected,
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  async function stop(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    for (const terminal of live) terminal.close();
    await Promise.race([
      Promise.all(terminals),
      new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS)),
    ]);
    // The host's egress gateway (Windows guests) closes its connections; their events spool too.
    await opener.close();
    // The terminals' last events go to the control plane now if it is there; otherwise they
    // wait in the spool for the next start.
    if (channel.connected)
      await Promise.race([
        spool.ship(auditTransport).catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, FINAL_SHIP_MS)),
      ]);
    channel.stop();
    await shipping.stop();
    await spool.close();
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
  // The last good bundle (or deny-all) is in force before the first terminal can open.
  await updates?.updater.start();
  channel.start();
  return done;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log.error(
      { error: error.message, ...(isPaddockError(error) ? { code: error.code } : {}) },
      'workspace supervisor failed',
    );
    process.exit(1);
  },
);
