// `npm run conformance`: the MCP conformance suite (@modelcontextprotocol/conformance).
//   - Every SERVER scenario against the conformance "everything" server twice: directly (the
//     baseline), and through the Paddock MCP gateway, which fronts it as a stdio server in its own
//     sandbox (as root; otherwise over Streamable HTTP, and it says so).
//   - The core CLIENT scenarios against the gateway's own upstream client
//     (scripts/mcp-conformance-client.ts).
// Prints the results per scenario and exits 1 when the gateway's result differs from the one
// recorded in GATEWAY_EXPECTED_FAILURES (docs/mcp.md explains each): a regression, or a fix
// whose record must be updated.
//
//   node scripts/mcp-conformance.ts [--upstream stdio|http] [--keep DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/core/index.ts';
import { compilePolicyBundle, createDecisionPoint } from '../src/policy/index.ts';
import { createEphemeralWorkspaceCa } from '../src/supervisor/egress/index.ts';
import {
  createMcpGateway,
  type McpDecide,
  type McpServerPlan,
  sandboxedStdioLauncher,
} from '../src/supervisor/index.ts';
import { POLICY_PROTECTED_PATHS } from '../src/policy/index.ts';
import { EVERYTHING_TOOLS, startEverythingHttp } from '../test/supervisor/fixtures/mcp-everything-server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const EVERYTHING = join(ROOT, 'test/supervisor/fixtures/mcp-everything-server.ts');
const CLIENT = join(ROOT, 'scripts/mcp-conformance-client.ts');

/** Client scenarios run against the gateway's upstream client (the OAuth ones are in docs/mcp.md). */
const CLIENT_SCENARIOS = ['initialize', 'tools_call', 'sse-retry', 'elicitation-sep1034-client-defaults'];

/** Scenarios that fail through the gateway by design, and why (docs/mcp.md, "Conformance"). */
export const GATEWAY_EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  'completion-complete': 'completions are not proxied (no policy vocabulary for prompts or resources)',
  'tools-call-sampling': 'sampling is not offered to upstream servers (a server could steer the agent model)',
  'tools-call-elicitation':
    'elicitation is not offered to upstream servers (a server could ask the user for secrets)',
  'elicitation-sep1034-defaults': 'elicitation is not offered to upstream servers',
  'elicitation-sep1330-enums': 'elicitation is not offered to upstream servers',
  'resources-list': 'resources are not proxied',
  'resources-read-text': 'resources are not proxied',
  'resources-read-binary': 'resources are not proxied',
  'resources-templates-read': 'resources are not proxied',
  'resources-subscribe': 'resources are not proxied',
  'resources-unsubscribe': 'resources are not proxied',
  'prompts-list': 'prompts are not proxied',
  'prompts-get-simple': 'prompts are not proxied',
  'prompts-get-with-args': 'prompts are not proxied',
  'prompts-get-embedded-resource': 'prompts are not proxied',
  'prompts-get-with-image': 'prompts are not proxied',
  'client:elicitation-sep1034-client-defaults': 'the gateway offers upstream servers no elicitation',
};

/** The Cedar decision point of a blueprint allowing `allow` on `server` (used by both scripts). */
export function conformanceDecide(server: string, allow: readonly string[]): McpDecide {
  const bundle = compilePolicyBundle({
    blueprint: { name: 'conformance', version: '1.0.0', mcp: [{ server, allow }] },
    protectedPaths: POLICY_PROTECTED_PATHS,
  });
  const pdp = createDecisionPoint(bundle, { principal: { session: 'conformance', user: 'conformance' } });
  return (request) => pdp.decide(request);
}

interface ScenarioResult {
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
  readonly failures: readonly string[];
}

function runConformance(args: readonly string[], outDir: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [SUITE, ...args, '-o', outDir], {
      cwd: outDir,
      // The suite's own report is read from outDir; its console output would only repeat it.
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child.on('close', () => resolve());
  });
}

/** Runs every server scenario against `url`; results by scenario. */
async function runSuite(url: string, outDir: string): Promise<Map<string, ScenarioResult>> {
  await runConformance(['server', '--url', url, '--suite', 'all'], outDir);
  return readResults(outDir, '');
}

/** Runs the client scenarios, one at a time, with the gateway as the client; results by `client:NAME`. */
async function runClientScenarios(outDir: string): Promise<Map<string, ScenarioResult>> {
  for (const scenario of CLIENT_SCENARIOS) {
    const command = `${process.execPath} ${CLIENT}`;
    await runConformance(
      ['client', '--command', command, '--scenario', scenario, '--timeout', '10000'],
      outDir,
    );
  }
  return readResults(outDir, 'client:');
}

function readResults(outDir: string, prefix: string): Map<string, ScenarioResult> {
  const results = new Map<string, ScenarioResult>();
  for (const entry of readdirSync(outDir).sort()) {
    const scenario = prefix + entry.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T.*$/, '');
    const checks = JSON.parse(readFileSync(join(outDir, entry, 'checks.json'), 'utf8')) as {
      id: string;
      status: string;
      errorMessage?: string;
    }[];
    const failed = checks.filter((check) => check.status === 'FAILURE');
    results.set(scenario, {
      passed: checks.filter((check) => check.status === 'SUCCESS').length,
      failed: failed.length,
      warnings: checks.filter((check) => check.status === 'WARNING').length,
      failures: failed.map((check) => `${check.id}: ${check.errorMessage ?? 'failed'}`),
    });
  }
  return results;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, keep: { type: 'string' } } });
  const upstream = (values.upstream ?? (process.getuid?.() === 0 ? 'stdio' : 'http')) as 'stdio' | 'http';
  const work = values.keep ?? mkdtempSync(join(tmpdir(), 'pdk-conformance-'));
  const direct = await startEverythingHttp();
  const logs: string[] = [];
  let events = 0;
  const server: McpServerPlan = {
    name: 'everything',
    allow: EVERYTHING_TOOLS,
    // The suite calls the reference tool names, so this server's tools are exposed bare.
    toolPrefix: '',
    connection:
      upstream === 'stdio'
        ? { transport: 'stdio', command: [process.execPath, EVERYTHING, '--stdio'], read: [ROOT] }
        : { transport: 'http', url: direct.url },
  };
  const gateway = createMcpGateway({
    servers: [server],
    // The real decision point of a blueprint that allows every conformance tool.
    decide: conformanceDecide('everything', EVERYTHING_TOOLS),
    onEvent: () => {
      events++;
    },
    context: () => ({
      workspaceId: 'conformance',
      sessionId: 'conformance',
      bundle: { id: 'conformance', version: '1' },
    }),
    logging: { toolArguments: 'full', redact: [] },
    launchStdio:
      upstream === 'stdio'
        ? sandboxedStdioLauncher({
            workRoot: join(work, 'servers'),
            ca: createEphemeralWorkspaceCa({ commonName: 'paddock-conformance' }),
            onEvent: () => {},
            context: () => ({
              workspaceId: 'conformance',
              sessionId: 'conformance',
              bundle: { id: 'conformance', version: '1' },
            }),
          })
        : undefined,
    // The suite opens ~35 sessions and, like most clients, never DELETEs one; the default
    // budget (16, idle ones closed after 30 min) would refuse the later scenarios.
    limits: { maxSessions: 64 },
    logger: createLogger('mcp', { level: 'debug', write: (line) => logs.push(line) }),
  });
  // UNSAFE outside this run: no token, because the suite cannot send one. Loopback only.
  const endpoint = await gateway.listenHttp({
    host: '127.0.0.1',
    port: 0,
    allowUnauthenticatedClients: true,
  });
  try {
    const baseline = await runSuite(direct.url, mkdtempSync(join(work, 'direct-')));
    const through = await runSuite(endpoint.url, mkdtempSync(join(work, 'gateway-')));
    for (const [scenario, result] of await runClientScenarios(mkdtempSync(join(work, 'client-')))) {
      through.set(scenario, result);
    }
    const rows: string[] = [];
    let unexpected = 0;
    for (const scenario of new Set([...baseline.keys(), ...through.keys()])) {
      const a = baseline.get(scenario);
      const b = through.get(scenario);
      const mark = (result: ScenarioResult | undefined) =>
        !result
          ? '—'
          : result.failed === 0
            ? `pass (${result.passed}${result.warnings ? `, ${result.warnings} warn` : ''})`
            : `FAIL (${result.failed}/${result.passed + result.failed})`;
      const expected = GATEWAY_EXPECTED_FAILURES[scenario];
      const failedThrough = !b || b.failed > 0;
      const surprise = failedThrough !== (expected !== undefined);
      if (surprise) unexpected++;
      const why = failedThrough
        ? (expected ?? `UNEXPECTED: ${b?.failures.join('; ') ?? 'not run'}`)
        : surprise
          ? 'UNEXPECTED PASS: update GATEWAY_EXPECTED_FAILURES and docs/mcp.md'
          : '';
      rows.push(`| ${scenario} | ${mark(a)} | ${mark(b)} | ${why} |`);
    }
    const count = (results: Map<string, ScenarioResult>) =>
      [...results.values()].filter((r) => r.failed === 0).length;
    const serverOnly = (results: Map<string, ScenarioResult>) =>
      new Map([...results].filter(([name]) => !name.startsWith('client:')));
    const clientOnly = (results: Map<string, ScenarioResult>) =>
      new Map([...results].filter(([name]) => name.startsWith('client:')));
    process.stdout.write(
      [
        `MCP conformance suite: server scenarios (--suite all), upstream over ${upstream}; client scenarios (client:*) with the gateway as the client`,
        '',
        '| scenario | direct | through the gateway | why it fails through the gateway |',
        '|---|---|---|---|',
        ...rows,
        '',
        `server scenarios: direct ${count(baseline)}/${baseline.size} pass; through the gateway ${count(serverOnly(through))}/${serverOnly(through).size}. Client scenarios: ${count(clientOnly(through))}/${clientOnly(through).size} pass. ${events} audit events`,
        unexpected
          ? `${unexpected} scenario(s) differ from GATEWAY_EXPECTED_FAILURES`
          : 'matches the recorded result',
        '',
      ].join('\n'),
    );
    return unexpected ? 1 : 0;
  } finally {
    await gateway.close();
    await direct.close();
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = await main();
