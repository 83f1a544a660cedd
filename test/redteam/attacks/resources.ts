import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type Attack, outcome } from '../attack.ts';
import { makeWorkspace, runInSandbox } from '../../support/sandbox-harness.ts';

// Resource exhaustion stays inside the sandbox's rlimits: a fork bomb hits RLIMIT_NPROC of
// the sandbox's own host uid, a memory hog hits RLIMIT_DATA, and the host keeps working.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'resources',
  expected: 'blocked',
  run,
});

/** Host processes running as `uid` right now. */
function processesOf(uid: number): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\b`, 'm').test(status)) count++;
    } catch {
      // exited meanwhile
    }
  }
  return count;
}

export const attacks: Attack[] = [
  attack('resources.fork-bomb', 'fork bomb', async () => {
    const workspace = makeWorkspace('pdk-rt-fork-');
    const limit = 48;
    let peak = 0;
    let uid = -1;
    try {
      // A classic bomb for two seconds; then everything inside is killed by the sandbox's end.
      const sampler = setInterval(() => {
        if (uid >= 0) peak = Math.max(peak, processesOf(uid));
      }, 10);
      const run = await runInSandbox(
        ['/bin/sh', '-c', "sh -c 'b(){ b|b& }; b' 2>/dev/null & sleep 2; echo done"],
        {
          workdir: workspace.dir,
          limits: { processes: limit },
          timeoutMs: 15_000,
          onUid: (value) => {
            uid = value;
          },
        },
      ).finally(() => clearInterval(sampler));
      let left = processesOf(run.uid);
      for (let i = 0; i < 100 && left > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        left = processesOf(run.uid);
      }
      const host = spawnSync('/bin/true').status === 0;
      const contained = peak > 1 && peak <= limit && left === 0 && host;
      return outcome(
        contained,
        `peak ${peak} processes (limit ${limit}), ${left} left after exit, host spawns ${host ? 'fine' : 'FAIL'}`,
      );
    } finally {
      workspace.remove();
    }
  }),
  attack('resources.memory-hog', 'allocate far more memory than the limit', async () => {
    const workspace = makeWorkspace('pdk-rt-mem-');
    try {
      const run = await runInSandbox(
        ['/usr/bin/python3', '-c', 'x = bytearray(2 * 1024**3)\nprint("ALLOCATED")'],
        { workdir: workspace.dir, limits: { memoryMiB: 256 }, timeoutMs: 15_000 },
      );
      return outcome(
        !/ALLOCATED/.test(run.stdout) && /MemoryError/.test(run.stderr),
        run.stderr.trim().split('\n').pop() ?? '',
      );
    } finally {
      workspace.remove();
    }
  }),
  attack('resources.file-descriptors', 'open more files than the limit', async () => {
    const workspace = makeWorkspace('pdk-rt-fd-');
    try {
      const run = await runInSandbox(
        [
          '/usr/bin/python3',
          '-c',
          'import os\nfds=[]\ntry:\n  while len(fds) < 100000: fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as e: print("stopped at %d" % len(fds))',
        ],
        { workdir: workspace.dir, limits: { openFiles: 128 } },
      );
      const stopped = Number(/stopped at (\d+)/.exec(run.stdout)?.[1] ?? Number.NaN);
      return outcome(stopped < 128, run.stdout.trim() || run.stderr.trim());
    } finally {
      workspace.remove();
    }
  }),
];
