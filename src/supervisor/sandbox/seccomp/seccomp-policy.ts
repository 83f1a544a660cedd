// What the sandbox's seccomp filter refuses, as data. Refusals return an errno rather than
// killing the process, so a tool that probes for a feature (io_uring, user namespaces) falls
// back gracefully instead of crashing. Everything not listed is allowed: the mount namespace,
// Landlock, the missing capabilities and the unprivileged host uid are the other layers.

/** Syscalls refused outright with EPERM, each with why it is dangerous in a sandbox. */
export const DENIED_SYSCALLS: Readonly<Record<string, string>> = {
  ptrace: 'reads and rewrites other processes',
  process_vm_readv: "reads another process's memory",
  process_vm_writev: "writes another process's memory",
  kcmp: 'compares kernel objects of other processes (an address oracle)',
  pidfd_getfd: 'steals file descriptors from another process',
  mount: 'changes the filesystem view',
  umount2: 'uncovers what a mount hides',
  pivot_root: 'changes the root filesystem',
  chroot: 'a classic escape primitive with a leaked directory fd',
  move_mount: 'new mount API',
  open_tree: 'new mount API',
  open_tree_attr: 'new mount API',
  fsopen: 'new mount API',
  fsconfig: 'new mount API',
  fsmount: 'new mount API',
  fspick: 'new mount API',
  mount_setattr: 'new mount API (can clear read-only)',
  open_by_handle_at: 'opens files by handle, bypassing the mount view (the "shocker" escape)',
  name_to_handle_at: 'pairs with open_by_handle_at',
  bpf: 'loads programs into the kernel',
  io_uring_setup: "io_uring runs syscalls out of seccomp's sight",
  io_uring_enter: "io_uring runs syscalls out of seccomp's sight",
  io_uring_register: "io_uring runs syscalls out of seccomp's sight",
  perf_event_open: 'kernel attack surface and side channels',
  userfaultfd: 'widens kernel race windows (a common exploit aid)',
  keyctl: 'the kernel keyring is shared per host uid, not per namespace',
  add_key: 'the kernel keyring is shared per host uid, not per namespace',
  request_key: 'the kernel keyring is shared per host uid, not per namespace',
  setns: 'joins another namespace',
  kexec_load: 'replaces the running kernel',
  kexec_file_load: 'replaces the running kernel',
  init_module: 'loads kernel code',
  finit_module: 'loads kernel code',
  delete_module: 'unloads kernel code',
  create_module: 'obsolete module API',
  get_kernel_syms: 'obsolete module API',
  query_module: 'obsolete module API',
  acct: 'process accounting is host-wide',
  swapon: 'host-wide memory management',
  swapoff: 'host-wide memory management',
  reboot: 'host-wide',
  syslog: 'reads the kernel log (addresses, other tenants)',
  quotactl: 'host-wide disk quotas',
  quotactl_fd: 'host-wide disk quotas',
  lookup_dcookie: 'kernel profiling interface',
  fanotify_init: 'watches the whole filesystem',
  settimeofday: 'the clock is host-wide',
  clock_settime: 'the clock is host-wide',
  clock_adjtime: 'the clock is host-wide',
  adjtimex: 'the clock is host-wide',
  sethostname: "UTS changes are refused, even in the sandbox's own namespace",
  setdomainname: "UTS changes are refused, even in the sandbox's own namespace",
  vhangup: 'hangs up the terminal',
  nfsservctl: 'obsolete NFS server control',
  iopl: 'raw I/O port access',
  ioperm: 'raw I/O port access',
  uselib: 'obsolete library loader',
  ustat: 'obsolete',
  sysfs: 'obsolete',
  _sysctl: 'obsolete sysctl interface',
};

/** Syscalls answered ENOSYS: their arguments live in memory seccomp cannot inspect, and callers
 * fall back to the older call whose arguments the filter does check: clone3 to clone, openat2
 * (its mode is inside struct open_how) to openat. glibc's open() never uses openat2. */
export const UNSUPPORTED_SYSCALLS: readonly string[] = ['clone3', 'openat2'];

/** S_ISUID | S_ISGID: a file with either bit runs as its owner or its group. */
export const SETID_MODE_BITS = 0o6000;
/** O_CREAT | __O_TMPFILE (the same on x86_64 and aarch64): the only flags with which open and
 * openat read their mode argument. */
export const OPEN_CREATE_FLAGS = 0o100 | 0o20000000;

/**
 * Syscalls that set a file's mode, refused with EPERM when the mode has a set-id bit: `mode` is
 * the index of the mode argument, `flags` (open, openat) that of the flags, which must ask for
 * creation for the mode to count. Why: workspace files are the user's on the host (the
 * idmapped mount), so a setuid or setgid file the agent made would stay on the user's disk,
 * executable as the user or their group by anyone who can reach it; nosuid only protects the
 * sandbox itself. The kernel keeps S_ISUID on creation (open, creat, mknod: measured here),
 * so creation is covered as well as chmod. mkdir needs nothing: it drops both bits itself.
 */
export const SETID_MODE_SYSCALLS: Readonly<
  Record<string, { readonly mode: number; readonly flags?: number }>
> = {
  chmod: { mode: 1 },
  fchmod: { mode: 1 },
  fchmodat: { mode: 2 },
  fchmodat2: { mode: 2 },
  creat: { mode: 1 },
  mknod: { mode: 1 },
  mknodat: { mode: 2 },
  open: { mode: 2, flags: 1 },
  openat: { mode: 3, flags: 2 },
};

// Namespace flags (linux/sched.h). CLONE_NEWTIME shares its bit with the exit-signal byte of
// clone(), so it is only checked for unshare().
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWTIME = 0x00000080;
/** Any new namespace: none may be created inside the sandbox (new user namespaces above all). */
export const CLONE_NAMESPACE_FLAGS =
  CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_RAW = 3;
/** The obsolete AF_INET packet socket type. */
export const SOCK_PACKET = 10;

/** Terminal ioctls that inject input into, or take over, the terminal the sandbox shares. */
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

/** personality() values allowed: the default, the 32-bit one, and the query. Others disable ASLR
 * (ADDR_NO_RANDOMIZE) or make data executable (READ_IMPLIES_EXEC). */
export const ALLOWED_PERSONALITIES: readonly number[] = [0x0, 0x8, 0xffffffff];

export const EPERM = 1;
export const ENOSYS = 38;
