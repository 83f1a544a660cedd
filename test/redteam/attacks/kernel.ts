import { type Attack, outcome } from '../attack.ts';
import { inWorkspace, probeSyscall } from '../fixtures.ts';

// Kernel attack surface the seccomp filter, the missing capabilities and the user namespace
// must keep out of reach: mounts, new namespaces, io_uring, bpf, keyrings, perf, raw sockets.
// Syscall numbers are x86_64's (the suite's host); the unit tests cover aarch64's table.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'kernel',
  expected: 'blocked',
  run,
});

/** Runs a shell script; blocked when `succeeded` finds no sign of success in its output. */
function shell(script: string, succeeded: RegExp): Attack['run'] {
  return async () => {
    const run = await inWorkspace(script);
    run.cleanup();
    const won = succeeded.test(run.stdout);
    return outcome(
      !won,
      won ? run.stdout : (run.stderr.split('\n').filter(Boolean).slice(-1)[0] ?? run.stdout),
    );
  };
}

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_NEWNS = 0x00020000;

export const attacks: Attack[] = [
  attack(
    'kernel.mount-tmpfs',
    'mount a filesystem',
    shell(
      'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo MOUNTED; mount --bind /workspace /tmp/m && echo MOUNTED',
      /MOUNTED/,
    ),
  ),
  attack('kernel.mount-syscall', 'mount(2) directly', () =>
    probeSyscall(165, ['b"none"', 'b"/tmp"', 'b"tmpfs"', 0, 0]),
  ),
  attack(
    'kernel.umount-workspace',
    'unmount the read-only binds to uncover what they hide',
    shell('umount /workspace/.claude && echo UNMOUNTED; umount -l /etc && echo UNMOUNTED', /UNMOUNTED/),
  ),
  attack('kernel.new-mount-api', 'open_tree / fsopen (new mount API)', async () => {
    const a = await probeSyscall(428, [-100, 'b"/"', 1]);
    const b = await probeSyscall(430, ['b"tmpfs"', 0]);
    return outcome(a.blocked && b.blocked, `${a.evidence}; ${b.evidence}`);
  }),
  attack(
    'kernel.unshare-user',
    'unshare -U (a new user namespace)',
    shell('unshare -U id && echo NEWUSERNS; unshare -r id && echo NEWUSERNS', /NEWUSERNS/),
  ),
  attack(
    'kernel.unshare-net',
    'unshare -n (a new network namespace)',
    shell('unshare -n true && echo NEWNETNS; unshare -rn true && echo NEWNETNS', /NEWNETNS/),
  ),
  attack('kernel.clone-newuser', 'clone(CLONE_NEWUSER) directly', () =>
    probeSyscall(56, [CLONE_NEWUSER | 17, 0, 0, 0, 0]),
  ),
  attack('kernel.unshare-syscall', 'unshare(CLONE_NEWNS|CLONE_NEWNET) directly', () =>
    probeSyscall(272, [CLONE_NEWNS | CLONE_NEWNET]),
  ),
  attack('kernel.setns', "setns into the init process's network namespace", async () => {
    const run = await inWorkspace(
      `python3 -c 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); fd=os.open("/proc/1/ns/net",os.O_RDONLY); r=l.setns(fd,0); print("errno=%d" % (ctypes.get_errno() if r else 0))'`,
    );
    run.cleanup();
    return outcome(/errno=1\b/.test(run.stdout) || run.code !== 0, run.stdout.trim() || run.stderr.trim());
  }),
  attack('kernel.io-uring', 'io_uring_setup', () =>
    probeSyscall(425, [8, 'ctypes.create_string_buffer(120)']),
  ),
  attack('kernel.bpf', 'bpf(BPF_PROG_LOAD)', () =>
    probeSyscall(321, [5, 'ctypes.create_string_buffer(128)', 128]),
  ),
  attack('kernel.keyctl', 'keyctl / add_key (the per-uid kernel keyring)', async () => {
    const a = await probeSyscall(250, [0, -3, 0]);
    const b = await probeSyscall(248, ['b"user"', 'b"pdk"', 'b"x"', 1, -3]);
    return outcome(a.blocked && b.blocked, `${a.evidence}; ${b.evidence}`);
  }),
  attack('kernel.perf-event-open', 'perf_event_open', () =>
    probeSyscall(298, ['ctypes.create_string_buffer(128)', 0, -1, -1, 0]),
  ),
  attack('kernel.userfaultfd', 'userfaultfd', () => probeSyscall(323, [0])),
  attack('kernel.open-by-handle', 'open_by_handle_at (the "shocker" escape)', () =>
    probeSyscall(304, [-100, 'ctypes.create_string_buffer(128)', 0]),
  ),
  attack('kernel.kexec-and-modules', 'kexec_load and init_module', async () => {
    const a = await probeSyscall(246, [0, 0, 0, 0]);
    const b = await probeSyscall(175, [0, 0, 'b""']);
    return outcome(a.blocked && b.blocked, `${a.evidence}; ${b.evidence}`);
  }),
  attack(
    'kernel.raw-socket',
    'open a raw IP socket',
    shell(
      `python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print("RAW")'; python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_RAW|socket.SOCK_NONBLOCK, 58); print("RAW")'`,
      /RAW/,
    ),
  ),
  attack(
    'kernel.packet-socket',
    'open an AF_PACKET socket',
    shell(
      `python3 -c 'import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0); print("PACKET")'`,
      /PACKET/,
    ),
  ),
  attack(
    'kernel.ptrace',
    'ptrace another process in the sandbox',
    shell(
      `sleep 5 & python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.ptrace(16, int(sys.argv[1]), 0, 0); print("ATTACHED" if r == 0 else "errno=%d" % ctypes.get_errno())' $!; kill %1`,
      /ATTACHED/,
    ),
  ),
  attack('kernel.process-vm-readv', "process_vm_readv another process's memory", () =>
    probeSyscall(310, [1, 0, 0, 0, 0, 0]),
  ),
  attack(
    'kernel.personality',
    'disable ASLR with personality(ADDR_NO_RANDOMIZE)',
    shell('setarch -R true && echo NORANDOM', /NORANDOM/),
  ),
  attack(
    'kernel.chroot',
    'chroot',
    shell(
      'mkdir -p /tmp/r && chroot /tmp/r /bin/true && echo CHROOTED; python3 -c \'import os; os.chroot("/tmp"); print("CHROOTED")\'',
      /CHROOTED/,
    ),
  ),
  attack(
    'kernel.syslog',
    'read the kernel log',
    shell('dmesg > /tmp/log && echo READLOG; head -c 100 /dev/kmsg && echo READLOG', /READLOG/),
  ),
];
