// Policy release fan-out: one release reaching 500 supervisors over in-process channels, each
// doing the real work: TUF verification of timestamp, snapshot and targets (signatures,
// versions, expiry, hashes and lengths), the bundle's hash and length, parsing it, building its
// decision point (Cedar parse of every policy) and egress policy, the atomic swap, persisting
// trusted metadata and the last good bundle, and attesting. Every message crosses the channel
// as the JSON text frame it would be on the WebSocket, validated by the protocol's zod schemas
// on both ends.
// Peer (same run, same channels): the same four files delivered to the same 500 supervisors
// with no verification and no apply, i.e. the cost of moving the bytes.
// Timed: from publishing the release (sign + write metadata) to the last attestation that the
// new bundle is applied. Target: all 500 applied within 10 s. Results: bench/results/releases.json.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReleaseEndpoint } from '../src/controlplane/releases/index.ts';
import type { ControlPlaneMessage, SupervisorMessage } from '../src/core/channel/index.ts';

// 1,500 "bundle applied" info lines would be measured too: warnings only. Loggers read the
// level when their module loads, hence the dynamic imports below.
process.env['PADDOCK_LOG'] ??= 'warn';
const { compileCommit, createReleaseEndpoint, releaseInput } = await import(
  '../src/controlplane/releases/index.ts'
);
const { controlPlaneMessage, decodeMessage, encodeMessage, supervisorMessage } = await import(
  '../src/core/channel/index.ts'
);
const { ChannelFetcher, channelBundleUpdates, fetchTarget, parseMetadata, PolicyHolder, refreshChannel } =
  await import('../src/supervisor/policy/index.ts');
const { parseReleaseBundle } = await import('../src/policy/index.ts');
const { openStore, sqliteStoreUrl } = await import('../src/controlplane/store/open-store.ts');
const { MetadataKind } = await import('@tufjs/models');
const { commitAll, exampleRepository, releaseRepository, tempDir } = await import(
  '../test/support/releases.ts'
);

const SUPERVISORS = Number(process.env.PADDOCK_BENCH_SUPERVISORS ?? 500);
const TARGET_MS = 10_000;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const BLUEPRINTS = ['code-review', 'coding-agent', 'data-analysis', 'docs-research', 'ticket-triage'];

/** One in-process channel: JSON text frames both ways, decoded with the protocol's schemas. */
function inProcessChannel(
  workspaceId: string,
  endpoint: ReleaseEndpoint,
  toSupervisor: (message: ControlPlaneMessage) => void,
): (message: SupervisorMessage) => boolean {
  const deliver = (message: ControlPlaneMessage) => {
    const frame = encodeMessage(message);
    setImmediate(() => toSupervisor(decodeMessage(controlPlaneMessage, frame)));
  };
  return (message) => {
    const frame = encodeMessage(message);
    setImmediate(() => {
      const received = decodeMessage(supervisorMessage, frame);
      if (received.t === 'release_fetch') for (const answer of endpoint.serve(received)) deliver(answer);
      else if (received.t === 'bundle_attest') endpoint.attest(workspaceId, received.attestation);
    });
    return true;
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const temp = tempDir('paddock-bench-releases-');
try {
  const source = exampleRepository(temp.path);
  const repository = await releaseRepository(join(temp.path, 'releases'));
  const signers = repository.defaultSigners('canary');
  const first = await compileCommit({ repoDir: source.dir, commit: source.commit });
  await repository.release({ channel: 'canary', bundles: first.bundles.map(releaseInput), signers });
  const file = join(source.dir, 'blueprints', 'code-review.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
  const secondCommit = commitAll(source.dir, 'allow npm ci');
  const compileStart = performance.now();
  const second = await compileCommit({ repoDir: source.dir, commit: secondCommit });
  const compileMs = performance.now() - compileStart;

  // Attestations: which release each workspace has applied, watched as they arrive; stored as
  // paddock up stores them (its SQLite store).
  const store = await openStore({ url: sqliteStoreUrl(temp.path) });
  const base = createReleaseEndpoint({ repository, attestations: store });
  const appliedAt = new Map<string, number>();
  let wantedRelease = 1;
  let onAllApplied: (() => void) | undefined;
  const endpoint: ReleaseEndpoint = {
    serve: (message) => base.serve(message),
    workspaces: () => base.workspaces(),
    attest(workspaceId, attestation) {
      const stored = base.attest(workspaceId, attestation);
      if (
        attestation.state === 'applied' &&
        attestation.release === wantedRelease &&
        !appliedAt.has(workspaceId)
      ) {
        appliedAt.set(workspaceId, performance.now());
        if (appliedAt.size === SUPERVISORS) onAllApplied?.();
      }
      return stored;
    },
  };

  // 500 supervisors, every blueprint represented, each with its own state directory.
  const supervisors = Array.from({ length: SUPERVISORS }, (_, index) => {
    const workspaceId = `ws-${index}`;
    const holder = new PolicyHolder();
    let updates: ReturnType<typeof channelBundleUpdates> | undefined;
    const send = inProcessChannel(workspaceId, endpoint, (message) => {
      if (message.t === 'release_chunk' || message.t === 'release_missing' || message.t === 'release_notify')
        updates?.onRelease(message);
    });
    const stateDir = join(temp.path, 'supervisors', workspaceId);
    mkdirSync(stateDir, { recursive: true });
    updates = channelBundleUpdates({
      channel: 'canary',
      blueprint: BLUEPRINTS[index % BLUEPRINTS.length] as string,
      stateDir,
      initialRoot: repository.trustedRoot('canary'),
      holder,
      send,
    });
    return { workspaceId, holder, updates, send };
  });

  // Cold start (not the figure): every supervisor fetches and applies release 1.
  const coldStart = performance.now();
  await new Promise<void>((resolve) => {
    onAllApplied = resolve;
    for (const supervisor of supervisors) void supervisor.updates.updater.start();
  });
  const coldMs = performance.now() - coldStart;

  // The timed release: publish release 2 and notify every channel.
  appliedAt.clear();
  wantedRelease = 2;
  const allApplied = new Promise<void>((resolve) => {
    onAllApplied = resolve;
  });
  const start = performance.now();
  const outcome = await repository.release({
    channel: 'canary',
    bundles: second.bundles.map(releaseInput),
    signers,
  });
  const publishedAt = performance.now();
  for (const supervisor of supervisors)
    supervisor.updates.onRelease({ t: 'release_notify', channel: 'canary', version: outcome.version });
  await allApplied;
  const releaseMs = performance.now() - start;
  const latencies = [...appliedAt.values()].map((at) => at - start).sort((a, b) => a - b);
  const wrong = supervisors.filter(
    (supervisor) => supervisor.holder.current.ref.commit !== secondCommit,
  ).length;
  if (wrong > 0) throw new Error(`${wrong} supervisors do not enforce the new release`);

  // Peer: the same files over the same kind of channel, no verification, no apply.
  const paths = (() => {
    const status = repository.status('canary');
    const timestamp = JSON.parse(new TextDecoder().decode(repository.readFile('canary', 'timestamp.json')));
    return (blueprint: string) => {
      const target = status.targets.find((entry) => entry.name === blueprint)!;
      return [
        'timestamp.json',
        `${timestamp.signed.meta['snapshot.json'].version}.snapshot.json`,
        `${status.targetsVersion}.targets.json`,
        `targets/${target.sha256}.${blueprint}.json`,
      ];
    };
  })();
  const peerStart = performance.now();
  await Promise.all(
    supervisors.map(async (supervisor, index) => {
      let fetcher: InstanceType<typeof ChannelFetcher> | undefined;
      const send = inProcessChannel(supervisor.workspaceId, endpoint, (message) => {
        if (message.t === 'release_chunk' || message.t === 'release_missing') fetcher?.receive(message);
      });
      fetcher = new ChannelFetcher({ channel: 'canary', send });
      for (const path of paths(BLUEPRINTS[index % BLUEPRINTS.length] as string)) {
        const bytes = await fetcher.fetch(path, 4 * 1024 * 1024);
        if (!bytes) throw new Error(`peer: no ${path}`);
      }
    }),
  );
  const peerMs = performance.now() - peerStart;

  // Breakdown: the same 500 supervisors' TUF verification, bundle hash and parse, without
  // building the decision point (what is left of the figure is the Cedar policy load).
  const verifyStart = performance.now();
  await Promise.all(
    supervisors.map(async (supervisor, index) => {
      let fetcher: InstanceType<typeof ChannelFetcher> | undefined;
      const send = inProcessChannel(supervisor.workspaceId, endpoint, (message) => {
        if (message.t === 'release_chunk' || message.t === 'release_missing') fetcher?.receive(message);
      });
      fetcher = new ChannelFetcher({ channel: 'canary', send });
      const root = parseMetadata(MetadataKind.Root, repository.trustedRoot('canary'));
      const { trusted } = await refreshChannel({ root }, fetcher.fetch);
      const name = `${BLUEPRINTS[index % BLUEPRINTS.length]}.json`;
      parseReleaseBundle(await fetchTarget(trusted.targets, name, fetcher.fetch));
    }),
  );
  const verifyMs = performance.now() - verifyStart;

  const result = {
    bench: 'releases',
    date: new Date().toISOString(),
    node: process.version,
    supervisors: SUPERVISORS,
    blueprints: BLUEPRINTS.length,
    bundleBytes: Object.fromEntries(second.bundles.map((bundle) => [bundle.name, bundle.bytes.byteLength])),
    compileMs: Math.round(compileMs),
    publishMs: Math.round(publishedAt - start),
    releaseMs: Math.round(releaseMs),
    perSupervisorMs: {
      p50: Math.round(percentile(latencies, 50)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(latencies.at(-1) ?? 0),
    },
    coldStartMs: Math.round(coldMs),
    peerDeliverMs: Math.round(peerMs),
    verifyOnlyMs: Math.round(verifyMs),
    ratioToPeer: Number((releaseMs / peerMs).toFixed(2)),
    targetMs: TARGET_MS,
    withinTarget: releaseMs <= TARGET_MS,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'releases.json'), `${JSON.stringify(result, null, 2)}\n`);
  await store.close();
  process.stdout.write(
    [
      `release to ${SUPERVISORS} supervisors (in-process channels, full TUF verification + apply each)`,
      `  compile (${second.bundles.length} bundles) ${result.compileMs} ms (not in the figure), publish ${result.publishMs} ms`,
      `  all applied in ${result.releaseMs} ms (target ${TARGET_MS} ms: ${result.withinTarget ? 'met' : 'MISSED'}); per supervisor p50 ${result.perSupervisorMs.p50} ms, p99 ${result.perSupervisorMs.p99} ms`,
      `  peer: delivering the same files without verification ${result.peerDeliverMs} ms → ratio ${result.ratioToPeer}x`,
      `  breakdown: TUF verification + bundle hash + parse only ${result.verifyOnlyMs} ms (${(verifyMs / peerMs).toFixed(2)}x the peer); the rest is building each decision point (Cedar parse)`,
      `  cold start (release 1 to fresh supervisors) ${result.coldStartMs} ms`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(temp.path, { recursive: true, force: true });
}
