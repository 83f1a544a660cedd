import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyChain } from '../../../src/audit/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';

// `paddock run` as a user runs it: the real bin, a real sandbox, real exit codes and signals.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));

const blueprint = (name: string, dataScope: string) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: ${name}, version: 1.2.3, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Test runs.
  dataScope: ${dataScope}
`;

const config = makeWorkspace('pdk-run-cfg-');
mkdirSync(join(config.dir, 'blueprints'));
writeFileSync(
  join(config.dir, 'blueprints', 'writer.yaml'),
  blueprint('writer', '{ read: [], write: [/workspace], deny: [] }'),
);
const file = join(config.dir, 'file-bp.yaml');
writeFileSync(file, blueprint('from-file', '{ read: [/workspace], write: [], deny: [] }'));
const workspace = makeWorkspace('pdk-run-ws-');
after(() => {
  config.remove();
  workspace.remove();
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function paddock(
  args: string[],
  options: {
    input?: string;
    onStdout?: (text: string, pid: number) => void;
    onSpawn?: (pid: number) => void;
  } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PADDOCK, ...args], {
      cwd: config.dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      options.onStdout?.(stdout, child.pid!);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const run = (command: string[], extra: string[] = [], input?: string) =>
  paddock(['run', '--blueprint', 'writer', '--workdir', workspace.dir, ...extra, '--', ...command], {
    input,
  });

describe('paddock run', () => {
  it("exits with the command's own code", async () => {
    assert.equal((await run(['true'])).code, 0);
    assert.equal((await run(['sh', '-c', 'exit 3'])).code, 3);
  });

  it('reports a signal that ended the command as 128+N', async () => {
    assert.equal((await run(['sh', '-c', 'kill -TERM $$'])).code, 143);
    assert.equal((await run(['sh', '-c', 'kill -KILL $$'])).code, 137);
  });

  it('exits 127 for a command that does not exist, 126 for one that cannot be executed', async () => {
    const missing = await run(['no-such-command-anywhere']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot execute no-such-command-anywhere/);
    assert.equal((await run(['/etc/hostname'])).code, 126);
  });

  it('warns up front that a root-owned workdir stays read-only to the agent', async () => {
    const rootOwned = mkdtempSync(join(tmpdir(), 'pdk-run-root-'));
    try {
      const result = await paddock(['run', '-b', 'writer', '-w', rootOwned, '--', 'sh', '-c', 'touch x']);
      assert.notEqual(result.code, 0, 'the agent wrote into a root-owned workdir');
      assert.match(
        result.stderr,
        /^warning: --workdir \S+ is owned by root, so \/workspace is read-only to the agent .*chown -R USER /m,
      );
      const owned = await run(['true']);
      assert.doesNotMatch(owned.stderr, /is owned by root/);
    } finally {
      rmSync(rootOwned, { recursive: true, force: true });
    }
  });

  it('passes stdin, stdout and stderr through', async () => {
    const result = await run(['sh', '-c', 'tr a-z A-Z; echo err >&2'], [], 'hello sandbox\n');
    assert.equal(result.stdout, 'HELLO SANDBOX\n');
    assert.equal(result.stderr, 'err\n');
  });

  it('passes a terminal through (stdin is a TTY inside, job control kept)', () => {
    const command = [
      process.execPath,
      PADDOCK,
      'run',
      '-b',
      'writer',
      '-c',
      config.dir,
      '-w',
      workspace.dir,
      '--',
      'sh',
      '-c',
      'test -t 0 && test -t 1 && echo TTY; ps -o stat= -p $$',
    ]
      .map((arg) => `'${arg}'`)
      .join(' ');
    const out = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    assert.match(out, /TTY/);
  });

  it('forwards SIGTERM from the caller to the sandbox', async () => {
    const result = await paddock(
      ['run', '-b', 'writer', '-w', workspace.dir, '--', 'sh', '-c', 'echo up; sleep 30'],
      {
        onStdout: (text, pid) => {
          if (text === 'up\n') process.kill(pid, 'SIGTERM');
        },
      },
    );
    assert.equal(result.stdout, 'up\n');
    assert.equal(result.code, 143);
  });

  it('dies with the supervisor: SIGKILL to paddock leaves no sandbox process behind', async () => {
    const tag = `${Math.floor(Math.random() * 1e6)}.5`; // a unique sleep argument to find the process by
    const alive = () =>
      readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .some((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${tag}\0`;
          } catch {
            return false;
          }
        });
    let seen = false;
    await paddock(
      ['run', '-b', 'writer', '-w', workspace.dir, '--', 'sh', '-c', `echo up; exec sleep ${tag}`],
      {
        onStdout: (text, pid) => {
          if (text !== 'up\n') return;
          setTimeout(() => {
            seen = alive();
            process.kill(pid, 'SIGKILL');
          }, 100);
        },
      },
    );
    assert.ok(seen, 'the sandboxed sleep was running');
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !alive();
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(gone, 'the sandboxed sleep outlived the supervisor');
  });

  it('runs a blueprint FILE; its read-only scope holds', async () => {
    const result = await paddock([
      'run',
      '-b',
      file,
      '-w',
      workspace.dir,
      '--',
      'sh',
      '-c',
      'touch /workspace/x 2>&1; pwd',
    ]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Read-only file system\n\/workspace\n$/);
  });

  it('exits 125 with the reason when the sandbox cannot be built safely', async () => {
    writeFileSync(
      join(config.dir, 'blueprints', 'broad.yaml'),
      blueprint('broad', '{ read: [/], write: [], deny: [] }'),
    );
    const result = await paddock(['run', '-b', 'broad', '-w', workspace.dir, '--', 'true']);
    assert.equal(result.code, 125);
    assert.match(
      result.stderr,
      /error PDK_SANDBOX_SCOPE: dataScope path \/: the whole host filesystem is never a scope/,
    );
  });

  it('removes its network after exiting (a detached teardown), and warns about git hooks the run wrote', async () => {
    let pid = 0;
    const result = await paddock(
      [
        'run',
        '-b',
        'writer',
        '-w',
        workspace.dir,
        '--',
        'sh',
        '-c',
        'git init -q hooked && echo id > hooked/.git/hooks/post-merge',
      ],
      {
        onSpawn: (child) => {
          pid = child;
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /^warning: the sandbox wrote git hooks or code-running git config; inspect before using git there:\n {2}\/.*\/hooked\/\.git\/hooks\/post-merge \(hook, new\)\n$/,
    );
    const mine = () => readdirSync('/run/netns').filter((name) => name.endsWith(`-${pid}`));
    for (let i = 0; i < 100 && mine().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(mine(), [], 'the network namespace outlived the detached teardown');
    execFileSync('rm', ['-rf', join(workspace.dir, 'hooked')]);
  });

  it('exits 2 on a usage error', async () => {
    assert.equal((await paddock(['run', '--', 'true'])).code, 2);
    assert.equal((await paddock(['run', '-b', 'writer'])).code, 2);
  });

  it('writes the run to a hash-chained audit log as OCSF events', async () => {
    const log = join(config.dir, 'audit.jsonl');
    const result = await run(['sh', '-c', 'exit 4'], ['--audit', log]);
    assert.equal(result.code, 4);
    assert.equal((await verifyChain(log)).ok, true);
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    assert.deepEqual(
      events.map((event) => [event.metadata.event_code, event.class_uid]),
      [
        ['sandbox.started', 6002],
        ['exec.allowed', 1007],
        ['process.exited', 1007],
        ['sandbox.stopped', 6002],
      ],
    );
    assert.equal(events[2].exit_code, 4);
    assert.equal(events[1].process.cmd_line, "sh -c 'exit 4'");
  });

  it('reports refused syscalls as a Detection Finding read from the kernel log', async () => {
    // The kernel rate-limits these log lines host-wide (10 per 5 s): when other tests used the
    // budget, wait for it to refill and try again, three times at most.
    const probe =
      'import ctypes; l = ctypes.CDLL(None)\nfor _ in range(2): l.syscall(101, 16, 1, 0, 0)\nl.syscall(321, 0, 0, 0)';
    let descriptions: string[] = [];
    for (let attempt = 0; attempt < 3 && descriptions.length === 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 5500));
      const log = join(config.dir, `audit-seccomp-${attempt}.jsonl`);
      const result = await run(['python3', '-c', probe], ['--audit', log]);
      assert.equal(result.code, 0, result.stderr);
      descriptions = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).event)
        .filter((event) => event.finding_info?.analytic?.uid === 'sandbox.seccomp_denied')
        .map((event) => event.finding_info.desc as string);
    }
    assert.equal(descriptions.length, 1, 'a seccomp finding');
    assert.match(descriptions[0]!, /\b(ptrace|bpf)=\d/);
  });

  it('turns firewall drops into a Detection Finding and egress refusals into egress.denied', async () => {
    const log = join(config.dir, 'audit-escape.jsonl');
    // 10.231.0.2: slot 0 of the sandbox address pool, never assigned: the packet is dropped inside.
    const probe = [
      'import socket, urllib.request',
      's = socket.socket(); s.settimeout(0.3)',
      'try: s.connect(("10.231.0.2", 22))',
      'except OSError as e: print("direct", e.__class__.__name__)',
      'try: urllib.request.urlopen("http://example.com/", timeout=3)',
      'except Exception as e: print("proxy", getattr(e, "code", e))',
    ].join('\n');
    const result = await run(['python3', '-c', probe], ['--audit', log]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /direct (TimeoutError|timeout|ConnectionRefusedError)\nproxy 403\n/);
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    const codes = events.map((event) => event.metadata.event_code);
    assert.ok(codes.includes('egress.denied'), codes.join(' '));
    const finding = events.find((event) => event.metadata.event_code === 'finding.created');
    assert.equal(finding?.class_uid, 2004);
    assert.equal(finding?.finding_info.analytic.uid, 'sandbox.firewall_drop');
    assert.match(finding?.finding_info.desc, /tcp=\d+/);
  });
});
