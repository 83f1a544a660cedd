import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProgram, encodeProgram } from '../../src/supervisor/sandbox/seccomp/bpf-assembler.ts';
import {
  compileSeccompFilter,
  compileSeccompProgram,
  SECCOMP_RET,
} from '../../src/supervisor/sandbox/seccomp/compile-seccomp.ts';
import { DENIED_SYSCALLS } from '../../src/supervisor/sandbox/seccomp/seccomp-policy.ts';
import {
  AUDIT_ARCH,
  knownSyscalls,
  syscallNumber,
} from '../../src/supervisor/sandbox/seccomp/syscall-table.ts';
import { runFilter } from '../support/bpf-interpreter.ts';
import { runInSandbox, makeWorkspace } from '../support/sandbox-harness.ts';

const EPERM = SECCOMP_RET.ERRNO | 1;
const ENOSYS = SECCOMP_RET.ERRNO | 38;
const ALLOW = SECCOMP_RET.ALLOW;

for (const arch of ['x86_64', 'aarch64'] as const) {
  describe(`seccomp filter (${arch})`, () => {
    const program = compileSeccompProgram(arch);
    const call = (name: string, ...args: bigint[]) =>
      runFilter(program, { arch: AUDIT_ARCH[arch], nr: syscallNumber(arch, name)!, args });

    it('refuses every denied syscall the architecture has with EPERM', () => {
      for (const name of Object.keys(DENIED_SYSCALLS)) {
        const nr = syscallNumber(arch, name);
        if (nr === undefined) continue;
        assert.equal(runFilter(program, { arch: AUDIT_ARCH[arch], nr }), EPERM, name);
      }
    });

    it('allows ordinary syscalls (read, write, openat, execve, fork-style clone)', () => {
      const ordinary = arch === 'x86_64' ? [0, 1, 257, 59, 231] : [63, 64, 56, 221, 94];
      for (const nr of ordinary)
        assert.equal(runFilter(program, { arch: AUDIT_ARCH[arch], nr }), ALLOW, `nr ${nr}`);
      assert.equal(call('clone', 0x11n /* SIGCHLD */), ALLOW);
      assert.equal(call('clone', 0x3d0f00n /* pthread_create's flags */), ALLOW);
    });

    it('refuses namespace flags in clone and unshare, whatever else is set', () => {
      for (const flag of [
        0x10000000n,
        0x40000000n,
        0x20000n,
        0x20000000n,
        0x04000000n,
        0x08000000n,
        0x02000000n,
      ]) {
        assert.equal(call('clone', flag | 0x11n), EPERM, `clone ${flag.toString(16)}`);
        assert.equal(call('unshare', flag), EPERM, `unshare ${flag.toString(16)}`);
      }
      assert.equal(call('unshare', 0x80n /* CLONE_NEWTIME */), EPERM);
      assert.equal(call('unshare', 0x400n /* CLONE_FILES */), ALLOW);
      assert.equal(
        call('clone3'),
        ENOSYS,
        'clone3 hides its flags in memory: ENOSYS makes libc fall back to clone',
      );
    });

    it('refuses packet sockets and raw IP sockets, allows the rest', () => {
      assert.equal(call('socket', 17n, 3n), EPERM, 'AF_PACKET');
      assert.equal(call('socket', 2n, 3n), EPERM, 'AF_INET SOCK_RAW');
      assert.equal(call('socket', 10n, 3n | 0x80800n), EPERM, 'AF_INET6 SOCK_RAW|NONBLOCK|CLOEXEC');
      assert.equal(call('socket', 2n, 10n), EPERM, 'SOCK_PACKET');
      assert.equal(call('socket', 2n, 1n), ALLOW, 'TCP');
      assert.equal(call('socket', 10n, 2n), ALLOW, 'UDP6');
      assert.equal(call('socket', 1n, 1n), ALLOW, 'unix');
      assert.equal(call('socket', 16n, 3n), ALLOW, 'netlink raw (route queries)');
    });

    it('refuses TIOCSTI and TIOCLINUX even with high bits set (the kernel truncates cmd)', () => {
      assert.equal(call('ioctl', 0n, 0x5412n), EPERM);
      assert.equal(call('ioctl', 0n, 0x1_0000_5412n), EPERM);
      assert.equal(call('ioctl', 0n, 0x541cn), EPERM);
      assert.equal(call('ioctl', 0n, 0x5401n /* TCGETS */), ALLOW);
    });

    it('allows only harmless personality values', () => {
      assert.equal(call('personality', 0xffffffffn), ALLOW);
      assert.equal(call('personality', 0n), ALLOW);
      assert.equal(call('personality', 0x0040000n /* ADDR_NO_RANDOMIZE */), EPERM);
      assert.equal(call('personality', 0x0400000n /* READ_IMPLIES_EXEC */), EPERM);
    });

    it('refuses a set-user-id or set-group-id mode in chmod and file creation', () => {
      const O_CREAT = 0o100n;
      const O_TMPFILE = 0o20200000n;
      const modeAt: Record<string, number> = { fchmod: 1, fchmodat: 2, fchmodat2: 2, mknodat: 2 };
      if (arch === 'x86_64') Object.assign(modeAt, { chmod: 1, creat: 1, mknod: 1 });
      for (const [name, index] of Object.entries(modeAt)) {
        const withMode = (mode: bigint) => call(name, ...Array.from({ length: index }, () => 3n), mode);
        assert.equal(withMode(0o4755n), EPERM, `${name} u+s`);
        assert.equal(withMode(0o2755n), EPERM, `${name} g+s`);
        assert.equal(withMode(0o100000n | 0o6755n), EPERM, `${name} S_IFREG|ug+s`);
        assert.equal(withMode(0x1_0000_0800n), EPERM, `${name}: the kernel truncates the mode`);
        assert.equal(withMode(0o755n), ALLOW, `${name} 755`);
        assert.equal(withMode(0o1777n), ALLOW, `${name} sticky`);
      }
      assert.equal(call('openat', 3n, 0n, O_CREAT | 1n, 0o4755n), EPERM, 'openat O_CREAT u+s');
      assert.equal(call('openat', 3n, 0n, O_TMPFILE | 2n, 0o2700n), EPERM, 'openat O_TMPFILE g+s');
      assert.equal(call('openat', 3n, 0n, O_CREAT | 1n, 0o644n), ALLOW, 'openat O_CREAT 644');
      assert.equal(call('openat', 3n, 0n, 0n, 0o4755n), ALLOW, 'without O_CREAT the mode is ignored');
      if (arch === 'x86_64') {
        assert.equal(call('open', 0n, O_CREAT | 1n, 0o6755n), EPERM, 'open O_CREAT ug+s');
        assert.equal(call('open', 0n, 0n, 0o6755n), ALLOW, 'open without O_CREAT');
      }
      assert.equal(call('openat2'), ENOSYS, 'openat2 hides its mode in memory: libc falls back to openat');
    });

    it('kills a process that switches ABI (a foreign syscall table)', () => {
      assert.equal(runFilter(program, { arch: 0x40000003 /* i386 */, nr: 1 }), SECCOMP_RET.KILL_PROCESS);
      const other = arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
      assert.equal(runFilter(program, { arch: other, nr: 0 }), SECCOMP_RET.KILL_PROCESS);
    });

    it('encodes and decodes losslessly', () => {
      assert.deepEqual(decodeProgram(encodeProgram(program)), program);
      assert.equal(compileSeccompFilter(arch).length, program.length * 8);
    });
  });
}

describe('seccomp filter (x86_64 specifics)', () => {
  it('refuses x32 syscalls', () => {
    const program = compileSeccompProgram('x86_64');
    assert.equal(runFilter(program, { arch: AUDIT_ARCH.x86_64, nr: 0x40000000 + 101 }), EPERM);
  });

  it('uses the numbers of the installed kernel headers', () => {
    const header = readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
    for (const name of knownSyscalls()) {
      const match = new RegExp(`#define __NR_${name} (\\d+)`).exec(header);
      if (!match) continue; // newer than the installed headers (open_tree_attr)
      assert.equal(syscallNumber('x86_64', name), Number(match[1]), name);
    }
  });
});

describe('seccomp filter in the kernel', () => {
  it('is enforced on a real sandboxed process: refusals are EPERM, ordinary calls work', async () => {
    const workspace = makeWorkspace();
    try {
      const probe = `import ctypes, os
l = ctypes.CDLL(None, use_errno=True)
def errno(*a):
    return 0 if l.syscall(*a) != -1 else ctypes.get_errno()
print(errno(101, 0, 0, 0, 0), errno(425, 1, 0), errno(272, 0x10000000), errno(435, 0, 0), errno(272, 0x400), errno(39))
print(open("/proc/self/status").read().split("Seccomp:")[1].split()[0])`;
      const run = await runInSandbox(['/usr/bin/python3', '-c', probe], { workdir: workspace.dir });
      assert.equal(run.code, 0, run.stderr);
      const [errnos, mode] = run.stdout.trim().split('\n');
      assert.equal(
        errnos,
        '1 1 1 38 0 0',
        'ptrace, io_uring_setup, unshare(NEWUSER) EPERM; clone3 ENOSYS; unshare(FILES), getpid fine',
      );
      assert.equal(mode, '2', 'filter mode');
    } finally {
      workspace.remove();
    }
  });

  it('leaves no setuid or setgid file on the host: chmod, fchmod, open and mknod are refused', async () => {
    const workspace = makeWorkspace();
    try {
      const probe = `import os, stat
def attempt(what, fn):
    try:
        fn(); print(what, "ok")
    except OSError as e:
        print(what, e.errno)
open("f", "w").close()
attempt("chmod-u+s", lambda: os.chmod("f", 0o4755))
attempt("chmod-g+s", lambda: os.chmod("f", 0o2755))
fd = os.open("f", os.O_RDONLY)
attempt("fchmod-u+s", lambda: os.fchmod(fd, 0o4711))
attempt("open-creat-u+s", lambda: os.close(os.open("g", os.O_CREAT | os.O_WRONLY, 0o4755)))
attempt("mknod-u+s", lambda: os.mknod("h", stat.S_IFREG | 0o6755))
attempt("chmod-755", lambda: os.chmod("f", 0o755))`;
      const run = await runInSandbox(
        [
          '/bin/sh',
          '-c',
          `touch f; chmod u+s f 2>&1 || true; chmod g+s f 2>&1 || true; python3 -c '${probe}'`,
        ],
        { workdir: workspace.dir },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.stdout.replace(/^chmod: .*\n/gm, ''),
        'chmod-u+s 1\nchmod-g+s 1\nfchmod-u+s 1\nopen-creat-u+s 1\nmknod-u+s 1\nchmod-755 ok\n',
      );
      assert.match(run.stdout, /^chmod: changing permissions of 'f': Operation not permitted$/m);
      for (const name of readdirSync(workspace.dir)) {
        const mode = statSync(join(workspace.dir, name)).mode;
        assert.equal(mode & 0o6000, 0, `${name} has mode ${mode.toString(8)} on the host`);
      }
      assert.equal(statSync(join(workspace.dir, 'f')).mode & 0o7777, 0o755);
    } finally {
      workspace.remove();
    }
  });
});
