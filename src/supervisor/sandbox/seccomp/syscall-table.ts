// Syscall numbers for the architectures the sandbox supports, for the syscalls the seccomp
// policy names. Numbers come from the kernel's uapi headers (asm/unistd_64.h for x86_64,
// asm-generic/unistd.h for aarch64); a test cross-checks x86_64 against the installed header.
// A name missing from an architecture (aarch64 has no iopl) simply has no rule there.

export type SeccompArch = 'x86_64' | 'aarch64';

/** AUDIT_ARCH_* values: what the kernel puts in seccomp_data.arch for each ABI. */
export const AUDIT_ARCH: Record<SeccompArch, number> = {
  x86_64: 0xc000003e, // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  aarch64: 0xc00000b7, // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
};

/** x32 syscalls arrive with the x86_64 audit arch and this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

// [name, x86_64, aarch64]; -1: the architecture has no such syscall.
const ROWS: readonly (readonly [string, number, number])[] = [
  ['open', 2, -1],
  ['ioctl', 16, 29],
  ['socket', 41, 198],
  ['clone', 56, 220],
  ['creat', 85, -1],
  ['chmod', 90, -1],
  ['fchmod', 91, 52],
  ['ptrace', 101, 117],
  ['syslog', 103, 116],
  ['mknod', 133, -1],
  ['uselib', 134, -1],
  ['personality', 135, 92],
  ['ustat', 136, -1],
  ['sysfs', 139, -1],
  ['vhangup', 153, 58],
  ['pivot_root', 155, 41],
  ['_sysctl', 156, -1],
  ['adjtimex', 159, 171],
  ['chroot', 161, 51],
  ['acct', 163, 89],
  ['settimeofday', 164, 170],
  ['mount', 165, 40],
  ['umount2', 166, 39],
  ['swapon', 167, 224],
  ['swapoff', 168, 225],
  ['reboot', 169, 142],
  ['sethostname', 170, 161],
  ['setdomainname', 171, 162],
  ['iopl', 172, -1],
  ['ioperm', 173, -1],
  ['create_module', 174, -1],
  ['init_module', 175, 105],
  ['delete_module', 176, 106],
  ['get_kernel_syms', 177, -1],
  ['query_module', 178, -1],
  ['quotactl', 179, 60],
  ['nfsservctl', 180, 42],
  ['lookup_dcookie', 212, 18],
  ['clock_settime', 227, 112],
  ['kexec_load', 246, 104],
  ['add_key', 248, 217],
  ['request_key', 249, 218],
  ['keyctl', 250, 219],
  ['openat', 257, 56],
  ['mknodat', 259, 33],
  ['fchmodat', 268, 53],
  ['unshare', 272, 97],
  ['perf_event_open', 298, 241],
  ['fanotify_init', 300, 262],
  ['name_to_handle_at', 303, 264],
  ['open_by_handle_at', 304, 265],
  ['clock_adjtime', 305, 266],
  ['setns', 308, 268],
  ['process_vm_readv', 310, 270],
  ['process_vm_writev', 311, 271],
  ['kcmp', 312, 272],
  ['finit_module', 313, 273],
  ['kexec_file_load', 320, 294],
  ['bpf', 321, 280],
  ['userfaultfd', 323, 282],
  ['io_uring_setup', 425, 425],
  ['io_uring_enter', 426, 426],
  ['io_uring_register', 427, 427],
  ['open_tree', 428, 428],
  ['move_mount', 429, 429],
  ['fsopen', 430, 430],
  ['fsconfig', 431, 431],
  ['fsmount', 432, 432],
  ['fspick', 433, 433],
  ['clone3', 435, 435],
  ['openat2', 437, 437],
  ['pidfd_getfd', 438, 438],
  ['mount_setattr', 442, 442],
  ['quotactl_fd', 443, 443],
  ['fchmodat2', 452, 452],
  ['open_tree_attr', 467, 467],
];

const COLUMN: Record<SeccompArch, 1 | 2> = { x86_64: 1, aarch64: 2 };

/** The syscall number of `name` on `arch`, or undefined when that architecture lacks it. */
export function syscallNumber(arch: SeccompArch, name: string): number | undefined {
  const row = ROWS.find((candidate) => candidate[0] === name);
  if (!row) throw new Error(`syscall table has no entry for ${name}`);
  const nr = row[COLUMN[arch]];
  return nr < 0 ? undefined : nr;
}

/** Every syscall name the table knows (for tests). */
export function knownSyscalls(): string[] {
  return ROWS.map((row) => row[0]);
}

/** The architecture of this process, or undefined when the sandbox does not support it. */
export function hostSeccompArch(arch: string = process.arch): SeccompArch | undefined {
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  return undefined;
}
