import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { type Attack, outcome } from '../attack.ts';
import { inWorkspace, marker } from '../fixtures.ts';
import { runInSandbox, makeWorkspace } from '../../support/sandbox-harness.ts';

// Reaching out of the sandbox's pid namespace and identity: signalling or reading host
// processes (the supervisor first), host environment, host-wide kernel settings, setuid.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'process',
  expected: 'blocked',
  run,
});

/** A host process the attacks aim at, carrying a secret in its environment and argv. */
function victim(): { pid: number; secret: string; alive: () => boolean; stop: () => void } {
  const secret = marker();
  // The secret rides in argv ($0 of the shell) and in the environment.
  const child = spawn('/bin/sh', ['-c', 'sleep 60', secret], {
    env: { PDK_VICTIM_SECRET: secret },
    stdio: 'ignore',
  });
  const pid = child.pid!;
  return {
    pid,
    secret,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => child.kill('SIGKILL'),
  };
}

export const attacks: Attack[] = [
  attack('process.kill-supervisor', 'kill -9 the supervisor and a host process by pid', async () => {
    const target = victim();
    try {
      const run = await inWorkspace(`kill -9 ${process.pid} ${target.pid}; kill -9 -1; echo sent`);
      run.cleanup();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return outcome(
        target.alive(),
        target.alive() ? (run.stderr.split('\n')[0] ?? 'no such process') : 'host process killed',
      );
    } finally {
      target.stop();
    }
  }),
  attack('process.signal-all', 'signal every visible process (kill -1, pkill)', async () => {
    const target = victim();
    try {
      const run = await inWorkspace('kill -TERM -1; pkill -9 sleep; pkill -9 node; echo sent');
      run.cleanup();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return outcome(target.alive(), target.alive() ? 'host processes untouched' : 'host process killed');
    } finally {
      target.stop();
    }
  }),
  attack('process.proc-1-environ', 'read /proc/1/environ and every process environment', async () => {
    const target = victim();
    try {
      const run = await inWorkspace(
        'cat /proc/1/environ; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do cat "$f"; echo; done; ls /proc | grep -c "^[0-9]"',
      );
      run.cleanup();
      const leaked = run.stdout.includes(target.secret);
      return outcome(
        !leaked,
        leaked ? 'host process environment read' : `${run.stdout.trim().split('\n').pop()} pids visible`,
      );
    } finally {
      target.stop();
    }
  }),
  attack('process.host-memory', "read a host process's memory through /proc/PID/mem", async () => {
    const target = victim();
    try {
      const run = await inWorkspace(
        `python3 -c 'import sys; f=open("/proc/%s/mem" % sys.argv[1], "rb"); print("OPENED")' ${target.pid}; cat /proc/${process.pid}/maps | head -1`,
      );
      run.cleanup();
      return outcome(
        !/OPENED/.test(run.stdout) && run.stdout.trim() === '',
        run.stderr.split('\n').filter(Boolean).pop() ?? '',
      );
    } finally {
      target.stop();
    }
  }),
  attack('environment.host-secrets', 'find host environment variables inside', async () => {
    const secret = marker();
    const workspace = makeWorkspace('pdk-rt-env-');
    try {
      const run = await runInSandbox(['/bin/sh', '-c', 'env; cat /proc/self/environ'], {
        workdir: workspace.dir,
        hostEnv: {
          GITHUB_TOKEN: secret,
          AWS_SECRET_ACCESS_KEY: secret,
          SSH_AUTH_SOCK: `/tmp/${secret}`,
          TERM: 'xterm',
        },
      });
      const leaked = run.stdout.includes(secret);
      return outcome(
        !leaked && /TERM=xterm/.test(run.stdout),
        leaked ? 'host secret in environment' : 'only allowlisted variables',
      );
    } finally {
      workspace.remove();
    }
  }),
  attack('process.proc-sys-write', 'write host-wide kernel settings under /proc/sys', async () => {
    // Writes each current value back: harmless if it got through, and the write's status tells.
    const settings = [
      '/proc/sys/fs/protected_symlinks',
      '/proc/sys/kernel/sysrq',
      '/proc/sys/user/max_user_namespaces',
      '/proc/sys/vm/swappiness',
    ].filter((path) => existsSync(path));
    const script = settings
      .map((path) => `echo ${readFileSync(path, 'utf8').trim()} > ${path} && echo WROTE ${path}`)
      .join('; ');
    const run = await inWorkspace(script);
    run.cleanup();
    return outcome(!/WROTE/.test(run.stdout), run.stderr.split('\n')[0] ?? '');
  }),
  attack('process.hostname', "change the hostname (and so the host's)", async () => {
    const before = hostname();
    const run = await inWorkspace(
      'hostname pwned && echo CHANGED; echo pwned > /proc/sys/kernel/hostname && echo CHANGED; hostname',
    );
    run.cleanup();
    return outcome(
      hostname() === before && !/CHANGED/.test(run.stdout),
      `inside: ${run.stdout.trim().split('\n').pop()}; host unchanged`,
    );
  }),
  attack('process.setuid-binary', 'gain root through a setuid-root binary', async () => {
    const run = await inWorkspace(
      "mount -t tmpfs none /tmp && echo ROOT; su -c 'id -u' root </dev/null && echo ROOT; newgrp root </dev/null && echo ROOT; grep NoNewPrivs /proc/self/status; id -u",
    );
    run.cleanup();
    return outcome(
      !/ROOT/.test(run.stdout) && /NoNewPrivs:\s+1/.test(run.stdout),
      run.stdout.replace(/\n/g, ' '),
    );
  }),
  attack(
    'process.inherited-fds',
    'use a descriptor leaked from the launcher to walk out (openat(fd, ".."))',
    async () => {
      const probe = `import os
mine = [int(n) for n in os.listdir("/proc/self/fd") if int(n) > 2]
print("own", [n for n in mine if os.path.exists("/proc/self/fd/%d" % n) and n != max(mine)])
for n in os.listdir("/proc/1/fd"):
    try:
        fd = os.open("/proc/1/fd/" + n, os.O_RDONLY | os.O_DIRECTORY)
        up = os.open("../../../../..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        print("ESCAPED", n, os.listdir(up)[:5])
    except OSError as e:
        print("pid1", n, e.strerror)`;
      const run = await inWorkspace(`python3 -c '${probe}'`);
      run.cleanup();
      const ownFds = /own \[(.*)\]/.exec(run.stdout)?.[1] ?? '?';
      return outcome(
        !/ESCAPED/.test(run.stdout) && ownFds === '',
        `own fds beyond stdio: [${ownFds}]; ${run.stdout.split('\n').filter((l) => l.startsWith('pid1')).length} of pid 1's refused`,
      );
    },
  ),
  attack('process.capabilities', 'hold any capability inside', async () => {
    const run = await inWorkspace('grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status');
    run.cleanup();
    const held = run.stdout.split('\n').filter((line) => line && !/\t0000000000000000$/.test(line));
    return outcome(
      held.length === 0 && run.stdout.includes('CapEff'),
      held.length ? held.join(' ') : 'all capability sets empty',
    );
  }),
];
