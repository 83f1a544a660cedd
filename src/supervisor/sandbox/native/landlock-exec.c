// landlock-exec: the last step inside the Paddock sandbox, right before the agent's command.
//
// bubblewrap has built the mount namespace and installed seccomp; Landlock forbids mount for a
// landlocked process, so it can only be applied here, after setup. This shim restricts itself
// (and so everything it execs) to read-only access beneath the --ro paths and full access
// beneath the --rw paths, then execs the command, searching PATH like a shell.
//
// usage: landlock-exec [--allow-missing] [--seccomp-log FILE] [--nofile N] [--ro PATH]... [--rw PATH]...
//                      [--list PATH]... -- COMMAND [ARGS...]
//        landlock-exec --abi
//   --allow-missing   the blueprint opted out of Landlock: without it in the kernel, warn and go on
//   --list PATH       allow only listing directories beneath PATH (for `ls /`)
//   --seccomp-log FILE  install this seccomp program (again: bwrap installed it already) with
//                     SECCOMP_FILTER_FLAG_LOG, so the kernel logs each refusal (audit type 1326)
//                     and the supervisor can report them; the newest filter's log flag decides
//   --nofile N        set RLIMIT_NOFILE to N (soft = hard) once every inherited descriptor is
//                     closed: the launch itself may hold more descriptors than the command may
//   --abi             print the kernel's Landlock ABI version (0: none) and exit
// Exit codes before exec: 125 Landlock could not be applied, 126 not executable, 127 not found.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The uapi definitions, spelled out so the shim builds with older kernel headers (Debian 12
// ships 6.1 headers; the IOCTL_DEV right and scopes came later).
struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

#define CREATE_RULESET_VERSION (1U << 0)
#define RULE_PATH_BENEATH 1
#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_ABI1_ALL ((1ULL << 13) - 1)  // execute .. make_sym
#define FS_REFER (1ULL << 13)           // ABI 2
#define FS_TRUNCATE (1ULL << 14)        // ABI 3
#define FS_IOCTL_DEV (1ULL << 15)       // ABI 5
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#define SCOPE_SIGNAL (1ULL << 1)                // ABI 6
// Rights that make sense on a regular file (the kernel rejects directory rights on files).
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

#define MAX_PATHS 256
#define MAX_BPF_INSNS 4096

// Reads a classic BPF program (struct sock_filter[]) and installs it with logging on.
static int install_logged_seccomp(const char *path) {
  static struct sock_filter program[MAX_BPF_INSNS];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t size = read(fd, program, sizeof program);
  close(fd);
  if (size <= 0 || size % (ssize_t)sizeof program[0] != 0) {
    errno = EINVAL;
    return -1;
  }
  struct sock_fprog prog = {.len = (unsigned short)(size / (ssize_t)sizeof program[0]), .filter = program};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &prog);
}

static int fail(int code, const char *what, const char *detail) {
  fprintf(stderr, "paddock landlock-exec: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "",
          strerror(errno));
  return code;
}

static uint64_t handled_for_abi(long abi) {
  uint64_t handled = FS_ABI1_ALL;
  if (abi >= 2) handled |= FS_REFER;
  if (abi >= 3) handled |= FS_TRUNCATE;
  if (abi >= 5) handled |= FS_IOCTL_DEV;
  return handled;
}

static int add_rule(int ruleset, const char *path, uint64_t allowed) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1;  // a scope that does not exist grants nothing
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) allowed &= FS_FILE_RIGHTS;
  struct path_beneath_attr rule = {.allowed_access = allowed, .parent_fd = fd};
  int result = (int)syscall(SYS_landlock_add_rule, ruleset, RULE_PATH_BENEATH, &rule, 0);
  close(fd);
  return result;
}

int main(int argc, char **argv) {
  const char *ro[MAX_PATHS], *rw[MAX_PATHS], *list[MAX_PATHS], *seccomp_log = NULL, *nofile = NULL;
  int n_ro = 0, n_rw = 0, n_list = 0, allow_missing = 0, i = 1;
  if (argc == 2 && strcmp(argv[1], "--abi") == 0) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);
    printf("%ld\n", abi < 0 ? 0L : abi);
    return 0;
  }
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--allow-missing") == 0) allow_missing = 1;
    else if (strcmp(argv[i], "--ro") == 0 && i + 1 < argc && n_ro < MAX_PATHS) ro[n_ro++] = argv[++i];
    else if (strcmp(argv[i], "--rw") == 0 && i + 1 < argc && n_rw < MAX_PATHS) rw[n_rw++] = argv[++i];
    else if (strcmp(argv[i], "--seccomp-log") == 0 && i + 1 < argc) seccomp_log = argv[++i];
    else if (strcmp(argv[i], "--nofile") == 0 && i + 1 < argc) nofile = argv[++i];
    else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc && n_list < MAX_PATHS) list[n_list++] = argv[++i];
    else {
      errno = EINVAL;
      return fail(125, "bad argument", argv[i]);
    }
  }
  if (i + 1 >= argc) {
    errno = EINVAL;
    return fail(125, "missing -- COMMAND", NULL);
  }
  char **command = &argv[i + 1];

  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);
  if (abi < 1) {
    if (!allow_missing) return fail(125, "Landlock is not available in this kernel", "(PDK_SANDBOX_LANDLOCK)");
    fprintf(stderr, "paddock landlock-exec: warning: Landlock unavailable, running without it (blueprint opt-in)\n");
  } else {
    uint64_t handled = handled_for_abi(abi);
    struct ruleset_attr attr = {.handled_access_fs = handled, .handled_access_net = 0, .scoped = 0};
    // Signals and abstract unix sockets stay inside the sandbox's own Landlock domain.
    if (abi >= 6) attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) return fail(125, "landlock_create_ruleset", NULL);
    uint64_t read_only = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR;
    for (int k = 0; k < n_ro; k++)
      if (add_rule(ruleset, ro[k], read_only) != 0) return fail(125, "landlock_add_rule", ro[k]);
    for (int k = 0; k < n_list; k++)
      if (add_rule(ruleset, list[k], FS_READ_DIR) != 0) return fail(125, "landlock_add_rule", list[k]);
    for (int k = 0; k < n_rw; k++)
      if (add_rule(ruleset, rw[k], handled) != 0) return fail(125, "landlock_add_rule", rw[k]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(125, "prctl", "PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) return fail(125, "landlock_restrict_self", NULL);
    close(ruleset);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(125, "prctl", "PR_SET_NO_NEW_PRIVS");
  if (seccomp_log && install_logged_seccomp(seccomp_log) != 0) return fail(125, "seccomp", seccomp_log);
  // Nothing the launcher or bubblewrap held may reach the agent: an inherited O_PATH descriptor
  // of a host directory is a way out of the mount namespace (openat(fd, "..")).
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) return fail(125, "close_range", NULL);
  if (nofile) {
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(nofile, &end, 10);
    if (errno != 0 || end == nofile || *end != '\0' || value < 3) {
      errno = EINVAL;
      return fail(125, "bad --nofile", nofile);
    }
    struct rlimit limit = {.rlim_cur = value, .rlim_max = value};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return fail(125, "setrlimit", "RLIMIT_NOFILE");
  }
  execvp(command[0], command);
  int code = errno == ENOENT ? 127 : 126;
  return fail(code, "cannot execute", command[0]);
}
