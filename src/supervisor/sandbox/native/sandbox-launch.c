// sandbox-launch: the privileged half of the Paddock sandbox launcher.
//
// The supervisor runs this as root. It does the steps Node cannot do between fork and exec,
// in the one order that is safe, then becomes the unprivileged sandbox uid and execs bubblewrap:
//   1. idmapped binds (optional): in a private mount namespace, each writable scope is
//      overmounted with an idmapped clone of itself that shows the owner's files as owned by
//      the sandbox uid, so the agent can edit the user's files without running as the user;
//   2. open each --open path as root (O_PATH, no symlink anywhere in it) onto a fixed fd number,
//      for bwrap's --bind-fd: the sandbox uid need not be able to traverse the user's home;
//   3. setns into the sandbox's network namespace (made by the network plumbing);
//   4. rlimits (RLIMIT_NPROC counts per host uid, and the uid is dedicated to this sandbox);
//   5. drop every group, gid and uid (setres*id, so no saved id keeps root), no_new_privs;
//   6. exec PROGRAM (bwrap) with the environment it was given.
// Any failure exits 125 before exec with a message naming the step: nothing runs half-set-up.
//
// usage: sandbox-launch --uid N --gid N [--netns PATH] [--rlimit RES=N]...
//                       [--idmap PATH:OWNER_UID:OWNER_GID]... [--open FD:PATH]... -- PROGRAM [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL_EXIT 125
// Workspace binds are opened by the launcher (--open): the top-level protected names, plus
// three per nested repository (git-scan.ts caps those at 32 by default), so 256 leaves room.
#define MAX_ITEMS 256

static void die(const char *step, const char *detail) {
  fprintf(stderr, "paddock sandbox-launch: %s%s%s: %s\n", step, detail ? " " : "", detail ? detail : "",
          strerror(errno));
  _exit(FAIL_EXIT);
}

static void usage(const char *why) {
  fprintf(stderr, "paddock sandbox-launch: %s\n", why);
  _exit(FAIL_EXIT);
}

static unsigned long parse_number(const char *text, const char *what) {
  char *end = NULL;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') usage(what);
  return value;
}

static int rlimit_resource(const char *name) {
  if (strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
  if (strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
  if (strcmp(name, "data") == 0) return RLIMIT_DATA;
  if (strcmp(name, "as") == 0) return RLIMIT_AS;
  if (strcmp(name, "fsize") == 0) return RLIMIT_FSIZE;
  if (strcmp(name, "core") == 0) return RLIMIT_CORE;
  usage("unknown --rlimit resource (nproc, nofile, data, as, fsize, core)");
  return -1;
}

// A user namespace whose only mapping is OWNER -> sandbox id: the idmap of the mount.
// Files of any other owner stay unmapped (shown as nobody, never writable), so host root's
// files can never become writable or setuid-able through the idmapped mount.
static int idmap_userns(unsigned long owner_uid, unsigned long owner_gid, unsigned long uid, unsigned long gid) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) die("pipe", NULL);
  pid_t child = fork();
  if (child < 0) die("fork", "for the idmap user namespace");
  if (child == 0) {
    char byte = 0;
    if (unshare(CLONE_NEWUSER) != 0) _exit(1);
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte;
  if (read(ready[0], &byte, 1) != 1) {
    errno = EPERM;
    die("unshare", "CLONE_NEWUSER for the idmap");
  }
  close(ready[0]);
  char path[64], line[96];
  const char *kinds[2] = {"uid_map", "gid_map"};
  unsigned long from[2] = {owner_uid, owner_gid}, to[2] = {uid, gid};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", child, kinds[i]);
    int len = snprintf(line, sizeof line, "%lu %lu 1\n", from[i], to[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, (size_t)len) != len) die("write", path);
    close(fd);
  }
  snprintf(path, sizeof path, "/proc/%d/ns/user", child);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0) die("open", path);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return userns;
}

static void idmap_bind(const char *spec, unsigned long uid, unsigned long gid) {
  char path[4096];
  unsigned long owner_uid, owner_gid;
  const char *last = strrchr(spec, ':');
  if (!last || last == spec) usage("--idmap needs PATH:OWNER_UID:OWNER_GID");
  const char *middle = last - 1;
  while (middle > spec && *middle != ':') middle--;
  if (*middle != ':' || (size_t)(middle - spec) >= sizeof path) usage("--idmap needs PATH:OWNER_UID:OWNER_GID");
  memcpy(path, spec, (size_t)(middle - spec));
  path[middle - spec] = '\0';
  char uid_text[32];
  size_t uid_len = (size_t)(last - middle - 1);
  if (uid_len == 0 || uid_len >= sizeof uid_text) usage("--idmap OWNER_UID");
  memcpy(uid_text, middle + 1, uid_len);
  uid_text[uid_len] = '\0';
  owner_uid = parse_number(uid_text, "--idmap OWNER_UID must be a number");
  owner_gid = parse_number(last + 1, "--idmap OWNER_GID must be a number");
  if (owner_uid == 0 || owner_gid == 0) usage("--idmap refuses to map root-owned files");

  int userns = idmap_userns(owner_uid, owner_gid, uid, gid);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die("open_tree", path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) die("mount_setattr idmap", path);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0) die("move_mount", path);
  close(tree);
  close(userns);
}

// struct open_how and RESOLVE_NO_SYMLINKS (linux/openat2.h), spelled out for older headers.
struct open_how_v0 {
  unsigned long long flags, mode, resolve;
};
#define RESOLVE_NO_SYMLINKS_FLAG 0x04

static void open_onto(const char *spec) {
  const char *colon = strchr(spec, ':');
  if (!colon || colon == spec) usage("--open needs FD:PATH");
  char number[16];
  if ((size_t)(colon - spec) >= sizeof number) usage("--open FD too long");
  memcpy(number, spec, (size_t)(colon - spec));
  number[colon - spec] = '\0';
  int target = (int)parse_number(number, "--open FD must be a number");
  if (target < 3) usage("--open FD must be 3 or more");
  struct open_how_v0 how = {.flags = O_PATH, .mode = 0, .resolve = RESOLVE_NO_SYMLINKS_FLAG};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, colon + 1, &how, sizeof how);
  if (fd < 0) die("open (no symlinks allowed)", colon + 1);
  if (fd != target) {
    if (dup2(fd, target) < 0) die("dup2", colon + 1);
    close(fd);
  }
}

int main(int argc, char **argv) {
  unsigned long uid = 0, gid = 0;
  const char *netns = NULL;
  const char *idmaps[MAX_ITEMS];
  const char *rlimits[MAX_ITEMS];
  const char *opens[MAX_ITEMS];
  int n_idmaps = 0, n_rlimits = 0, n_opens = 0, i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--") == 0) break;
    if (i + 1 >= argc) usage("option needs a value");
    if (strcmp(arg, "--uid") == 0) uid = parse_number(argv[++i], "--uid must be a number");
    else if (strcmp(arg, "--gid") == 0) gid = parse_number(argv[++i], "--gid must be a number");
    else if (strcmp(arg, "--netns") == 0) netns = argv[++i];
    else if (strcmp(arg, "--idmap") == 0 || strcmp(arg, "--rlimit") == 0 || strcmp(arg, "--open") == 0) {
      int *count = arg[2] == 'i' ? &n_idmaps : arg[2] == 'r' ? &n_rlimits : &n_opens;
      const char **list = arg[2] == 'i' ? idmaps : arg[2] == 'r' ? rlimits : opens;
      if (*count >= MAX_ITEMS) usage("too many --idmap, --rlimit or --open options (at most 256 each)");
      list[(*count)++] = argv[++i];
    } else usage("unknown option");
  }
  if (i + 1 >= argc) usage("missing -- PROGRAM");
  // Refuse to "drop" to root: the whole point is an unprivileged host identity.
  if (uid == 0 || gid == 0) usage("--uid and --gid must be non-zero");

  if (n_idmaps > 0) {
    // A private mount namespace: the overmounts must never propagate back to the host.
    if (unshare(CLONE_NEWNS) != 0) die("unshare", "CLONE_NEWNS");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount", "/ private");
    for (int k = 0; k < n_idmaps; k++) idmap_bind(idmaps[k], uid, gid);
  }
  // After the idmaps, so each descriptor refers to the idmapped view.
  for (int k = 0; k < n_opens; k++) open_onto(opens[k]);
  if (netns) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open network namespace", netns);
    if (setns(fd, CLONE_NEWNET) != 0) die("setns", netns);
    close(fd);
  }
  for (int k = 0; k < n_rlimits; k++) {
    char name[16];
    const char *eq = strchr(rlimits[k], '=');
    if (!eq || (size_t)(eq - rlimits[k]) >= sizeof name) usage("--rlimit needs RES=N");
    memcpy(name, rlimits[k], (size_t)(eq - rlimits[k]));
    name[eq - rlimits[k]] = '\0';
    rlim_t value = (rlim_t)parse_number(eq + 1, "--rlimit value must be a number");
    struct rlimit limit = {.rlim_cur = value, .rlim_max = value};
    if (setrlimit(rlimit_resource(name), &limit) != 0) die("setrlimit", rlimits[k]);
  }
  if (setgroups(0, NULL) != 0) die("setgroups", NULL);
  if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) die("setresgid", NULL);
  if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) die("setresuid", NULL);
  // Belt and braces: if the kernel let any of these succeed we are not unprivileged.
  if (setresuid(0, 0, 0) == 0 || getuid() != (uid_t)uid || geteuid() != (uid_t)uid) {
    errno = EPERM;
    die("drop privileges", "root could be regained");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl", "PR_SET_NO_NEW_PRIVS");
  execv(argv[i + 1], &argv[i + 1]);
  die("exec", argv[i + 1]);
  return FAIL_EXIT;
}
