import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  identitySyncCommand,
  LOG_ROTATE_BYTES,
  startServiceLoop,
} from '../../../src/supervisor/workspace/service-loop.ts';
import { generateIdentity, writeIdentityFile } from '../../../src/core/channel/index.ts';
import { until } from '../../support/cluster-releases.ts';

// The Windows guest's service loop (service-loop.ts, run by windows-service.ts from a Scheduled
// Task), exercised on Linux: nothing in it is Windows-only but the sync command's interpreter.
// The supervisor here is a small script that records how it was started.

const dir = mkdtempSync(join(tmpdir(), 'pdk-service-loop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let scripts = 0;
/** A stand-in supervisor entry (an .mjs script) and the journal it and the sync append to. */
function fixture(body: string): { entry: string; journal: string; sync: string } {
  scripts += 1;
  const journal = join(dir, `journal-${scripts}`);
  const entry = join(dir, `entry-${scripts}.mjs`);
  writeFileSync(
    entry,
    `import { appendFileSync } from 'node:fs';
const journal = ${JSON.stringify(journal)};
const line = (text) => appendFileSync(journal, text + '\\n');
line('start ' + JSON.stringify({ argv: process.argv.slice(2), ipc: process.connected === true, t: Date.now(), env: Object.keys(process.env) }));
${body}
`,
  );
  const sync = join(dir, `sync-${scripts}.sh`);
  writeFileSync(sync, `echo sync >> '${journal}'\n`);
  return { entry, journal, sync };
}

const journalLines = (journal: string): string[] =>
  existsSync(journal) ? readFileSync(journal, 'utf8').trim().split('\n') : [];
const starts = (journal: string) =>
  journalLines(journal)
    .filter((line) => line.startsWith('start '))
    .map((line) => JSON.parse(line.slice(6)) as { argv: string[]; ipc: boolean; t: number; env: string[] });

describe('workspace supervisor service loop (the Windows guest service, run on Linux)', () => {
  it('runs the identity sync through PowerShell on Windows and the POSIX shell elsewhere', () => {
    assert.deepEqual(identitySyncCommand('C:\\ProgramData\\Paddock\\fetch-identity.ps1', 'win32'), [
      'powershell.exe',
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      'C:\\ProgramData\\Paddock\\fetch-identity.ps1',
    ]);
    assert.deepEqual(identitySyncCommand('/x/sync.sh', 'linux'), ['/bin/sh', '/x/sync.sh']);
  });

  it('syncs the identity before every start, names itself as the provider, and restarts after the delay', async () => {
    const { entry, journal, sync } = fixture('process.exit(3);');
    // As a Windows guest sets them machine-wide for the agent: the supervisor must not inherit them.
    const agentVariables = {
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      https_proxy: 'x',
      NODE_EXTRA_CA_CERTS: '/ca.pem',
    };
    Object.assign(process.env, agentVariables);
    const loop = startServiceLoop({
      entry,
      config: '/etc/example.json',
      identitySync: identitySyncCommand(sync),
      restartDelayMs: 300,
    });
    await until('three starts', () => starts(journal).length >= 3);
    await loop.stop();
    for (const name of Object.keys(agentVariables)) delete process.env[name];
    const lines = journalLines(journal);
    // sync, start, sync, start, …: never a start without a sync just before it.
    for (const [index, line] of lines.entries())
      if (line.startsWith('start ')) assert.equal(lines[index - 1], 'sync', `line ${index}: ${line}`);
    const seen = starts(journal);
    for (const start of seen) {
      assert.deepEqual(start.argv, ['--config', '/etc/example.json', '--provider-pid', String(process.pid)]);
      assert.equal(start.ipc, true, 'the supervisor has an IPC channel to the loop');
      assert.ok(start.env.includes('PATH'), 'the rest of the environment passes');
      for (const name of Object.keys(agentVariables))
        assert.ok(!start.env.includes(name), `${name} is the agent's, not the supervisor's`);
    }
    for (let n = 1; n < seen.length; n++)
      assert.ok(seen[n]!.t - seen[n - 1]!.t >= 300, `restart ${n} came after the delay`);
  });

  it('does not start the supervisor while the identity sync fails, and starts it once the sync succeeds', async () => {
    const { entry, journal } = fixture('setInterval(() => {}, 1000);');
    const allowed = join(dir, 'identity-ready');
    const sync = join(dir, 'failing-sync.sh');
    writeFileSync(sync, `echo sync >> '${journal}'\ntest -f '${allowed}'\n`);
    const loop = startServiceLoop({
      entry,
      config: 'c.json',
      identitySync: ['/bin/sh', sync],
      restartDelayMs: 100,
    });
    try {
      await until(
        'three failed syncs',
        () => journalLines(journal).filter((line) => line === 'sync').length >= 3,
      );
      assert.equal(starts(journal).length, 0, 'no start while the sync fails');
      writeFileSync(allowed, '');
      await until('a start', () => starts(journal).length === 1);
    } finally {
      await loop.stop();
    }
  });

  it('stop() stops the supervisor with SIGTERM and starts no other', async () => {
    const { entry, journal } = fixture(
      "process.on('SIGTERM', () => { line('term'); process.exit(0); }); setInterval(() => {}, 1000);",
    );
    const loop = startServiceLoop({ entry, config: 'c.json', restartDelayMs: 50 });
    await until('a start', () => starts(journal).length === 1);
    await loop.stop();
    await loop.ended;
    assert.ok(journalLines(journal).includes('term'), 'the supervisor was asked to stop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(starts(journal).length, 1, 'no restart after stop');
  });

  it('appends the output to its log file and rotates a file past the limit', async () => {
    const { entry, journal } = fixture("console.log('hello from the supervisor'); process.exit(1);");
    const logFile = join(dir, 'supervisor.log');
    writeFileSync(logFile, Buffer.alloc(LOG_ROTATE_BYTES + 1, 'x'));
    const loop = startServiceLoop({ entry, config: 'c.json', logFile, restartDelayMs: 60_000 });
    await until('a start', () => starts(journal).length === 1);
    await until('the supervisor end logged', () =>
      readFileSync(logFile, 'utf8').includes('supervisor ended'),
    );
    await loop.stop();
    assert.equal(statSync(`${logFile}.1`).size, LOG_ROTATE_BYTES + 1, 'the old file kept once');
    const text = readFileSync(logFile, 'utf8');
    assert.match(text, /hello from the supervisor/);
    assert.match(text, /"msg":"supervisor started"/);
    assert.match(text, /"exitCode":1/);
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
  });
});

describe('windows-service.ts with the real workspace supervisor (run on Linux)', () => {
  const ENTRY = new URL('../../../src/supervisor/workspace/windows-service.ts', import.meta.url).pathname;
  const CONFIG_DIR = new URL('../../../examples/platform/', import.meta.url).pathname;

  /** A supervisor config as a Windows guest's (providerPid 0: the loop names itself), dialling nowhere. */
  async function guestConfig(name: string): Promise<{ config: string; state: string }> {
    const root = mkdtempSync(join(dir, `${name}-`));
    const state = join(root, 'state');
    mkdirSync(state, { recursive: true });
    const { identity } = await generateIdentity(`ws-${name}`);
    writeIdentityFile(join(root, 'identity.json'), identity);
    const config = join(root, 'supervisor.json');
    writeFileSync(
      config,
      JSON.stringify({
        workspaceId: `ws-${name}`,
        channelUrl: 'ws://127.0.0.1:9/channel',
        identityFile: join(root, 'identity.json'),
        configDir: CONFIG_DIR,
        blueprint: 'coding-agent',
        profile: 'standard-local',
        workdir: join(root, 'workspace'),
        homeDir: join(root, 'home'),
        auditLog: join(state, 'supervisor.jsonl'),
        providerPid: 0,
      }),
    );
    return { config, state };
  }

  /** The supervisor's pid, from the loop's log line. */
  const supervisorPid = (logFile: string): number | undefined => {
    if (!existsSync(logFile)) return undefined;
    const match = /"pid":(\d+),"msg":"supervisor started"/.exec(readFileSync(logFile, 'utf8'));
    return match ? Number(match[1]) : undefined;
  };
  /** Everything the supervisor's spool holds, as text. */
  const spooled = (state: string): string => {
    const spool = join(state, 'audit-spool');
    if (!existsSync(spool)) return '';
    return readdirSync(spool, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'latin1'))
      .join('');
  };
  const alive = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };

  it('keeps the supervisor running under the loop, and the supervisor stops within 3 s of the loop being killed', async () => {
    const { config, state } = await guestConfig('killed');
    const logFile = join(state, 'service.log');
    const loop = spawn(process.execPath, [ENTRY, '--config', config, '--log', logFile], { stdio: 'ignore' });
    try {
      const pid = await until('the supervisor started', () => supervisorPid(logFile));
      // It stays up (it would return at once if it did not take the loop as its provider).
      await until('its spool', () => existsSync(join(state, 'audit-spool')));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(alive(pid), 'the supervisor runs under the loop');
      loop.kill('SIGKILL');
      const killedAt = Date.now();
      await until('the supervisor gone', () => !alive(pid), 5000);
      assert.ok(Date.now() - killedAt < 3000, 'an orphaned supervisor stops');
    } finally {
      loop.kill('SIGKILL');
    }
  });

  it('a stop of the loop stops the supervisor and the loop exits 0', async () => {
    const { config, state } = await guestConfig('stopped');
    const logFile = join(state, 'service.log');
    const loop = spawn(process.execPath, [ENTRY, '--config', config, '--log', logFile], { stdio: 'ignore' });
    const exited = once(loop, 'exit');
    const pid = await until('the supervisor started', () => supervisorPid(logFile));
    // Up: its stop handlers are in place before it records supervisor.started.
    await until('supervisor.started spooled', () => spooled(state).includes('supervisor.started'));
    loop.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.equal(alive(pid), false, 'the supervisor went with it');
    assert.match(readFileSync(logFile, 'utf8'), /"exitCode":0,"signal":null,"msg":"supervisor ended"/);
  });

  it('refuses to start without --config', async () => {
    const loop = spawn(process.execPath, [ENTRY], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    loop.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(loop, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /usage: windows-service\.ts --config FILE/);
  });
});
