// paddock-relay: the egress gateway's L4 data path.
//
// The gateway (Node) does everything that needs judgement on a tunnel: the CONNECT or SOCKS
// request, the destination check, the TLS ClientHello, the upstream connect to the checked
// address. Then it hands both sockets to this process over its Node IPC channel, and this
// process moves the bytes with splice(2) through a pipe: kernel to kernel, no copy through
// user space, no per-chunk work in JavaScript. It makes no decision of its own.
//
// The channel is the one Node opens for a child spawned with an 'ipc' stdio entry: a unix
// socket pair whose fd is in NODE_CHANNEL_FD, carrying newline-separated JSON. A message that
// carries a socket is {"cmd":"NODE_HANDLE","type":"net.Native","msg":{...}} with the fd
// attached (SCM_RIGHTS) to its first byte, and Node sends the next one only after our
// {"cmd":"NODE_HANDLE_ACK"}. Our msg: {"id":N,"side":"c"|"u","idle":MS,"pre":"base64"}:
// side c is the sandbox's socket (pre: bytes the gateway already read from it, sent upstream
// first), side u the upstream socket. {"op":"close","id":N} ends a tunnel early.
//
// We report each tunnel's end as {"closed":N,"up":BYTES,"down":BYTES,"reason":"..."}. When
// the channel closes (the gateway exited or died), every tunnel is closed and we exit: no
// tunnel outlives the policy that admitted it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PIPE_BYTES (1024 * 1024)
// Each socket's send buffer (the kernel doubles it: 8 MiB, twice the autotuning ceiling). A
// bulk tunnel then moves a whole pipe per wake-up instead of stopping at a full buffer: on
// loopback with cubic, paired runs gave a median of 84-90% of a direct connection against
// 74-79% with the autotuned buffer, on a two-core VM. The memory is TCP's, accounted and
// bounded by tcp_mem like any socket's; per tunnel at most two send buffers and two pipes, and
// the gateway bounds tunnels per sandbox (maxConnections).
#define SEND_BUFFER_BYTES (4 * 1024 * 1024)
#define MAX_LINE (1024 * 1024)
#define MAX_FDS_PER_READ 8
#define MAX_QUEUED_FDS 64

enum side { CLIENT = 0, UPSTREAM = 1 };

// One direction of a tunnel: bytes read from `from` wait in the pipe until written to `to`.
struct flow {
  int pipe_r, pipe_w;
  size_t in_pipe;
  bool eof;        // `from` reached end of stream
  bool shut;       // `to` has been shut down for writing
  uint64_t bytes;  // spliced out to `to`
  unsigned char *pre;
  size_t pre_len, pre_off;
};

struct tunnel;
struct endpoint {
  struct tunnel *tunnel;
  enum side side;
  int fd;
  uint32_t events;  // what epoll watches now
  // The peer closed both ways (or we shut our side and it sent FIN): only buffered bytes are
  // left to read, and they read without blocking. Out of epoll, which would report the
  // hang-up on every wait; read on the other socket's events and without a budget.
  bool hung_up;
};

struct tunnel {
  long long id;
  struct endpoint ends[2];
  struct flow up;    // client -> upstream
  struct flow down;  // upstream -> client
  long long idle_ms;
  long long last_active;
  bool started;
  bool closed;  // freed after the current batch of events, which may still name it
  struct tunnel *prev, *next;
};

static int epfd = -1;
static int channel = -1;
static struct tunnel *tunnels = NULL;
static struct tunnel *graveyard = NULL;

static int queued_fds[MAX_QUEUED_FDS];
static size_t queued_fd_count = 0;

static char *in_buf = NULL;
static size_t in_len = 0, in_cap = 0;
static char *out_buf = NULL;
static size_t out_len = 0, out_cap = 0;
static bool channel_wants_out = false;
static int sweep_every = 1000;  // ms between idle sweeps

static void fatal(const char *what) {
  fprintf(stderr, "paddock-relay: %s: %s\n", what, strerror(errno));
  exit(2);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// ---- the channel's output: buffered, written when the socket takes it ----

static void channel_watch(void) {
  struct epoll_event ev = {.events = EPOLLIN | (channel_wants_out ? EPOLLOUT : 0), .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, channel, &ev) < 0) fatal("epoll_ctl channel");
}

static void channel_flush(void) {
  while (out_len > 0) {
    ssize_t n = write(channel, out_buf, out_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      exit(0);  // the gateway is gone; nothing left to report to
    }
    memmove(out_buf, out_buf + n, out_len - (size_t)n);
    out_len -= (size_t)n;
  }
  bool wants = out_len > 0;
  if (wants != channel_wants_out) {
    channel_wants_out = wants;
    channel_watch();
  }
}

static void channel_send(const char *line) {
  size_t len = strlen(line);
  if (out_len + len > out_cap) {
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + len) cap *= 2;
    out_buf = realloc(out_buf, cap);
    if (!out_buf) fatal("realloc");
    out_cap = cap;
  }
  memcpy(out_buf + out_len, line, len);
  out_len += len;
  channel_flush();
}

// ---- tunnels ----

static struct tunnel *find_tunnel(long long id) {
  for (struct tunnel *t = tunnels; t; t = t->next)
    if (t->id == id) return t;
  return NULL;
}

static void flow_init(struct flow *f) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) fatal("pipe2");
  // A larger pipe means fewer splices per megabyte; the kernel may refuse, and the default works.
  (void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES);
  f->pipe_r = fds[0];
  f->pipe_w = fds[1];
}

static struct tunnel *tunnel_for(long long id) {
  struct tunnel *t = find_tunnel(id);
  if (t) return t;
  t = calloc(1, sizeof *t);
  if (!t) fatal("calloc");
  t->id = id;
  for (int s = 0; s < 2; s++) {
    t->ends[s].tunnel = t;
    t->ends[s].side = (enum side)s;
    t->ends[s].fd = -1;
  }
  t->up.pipe_r = t->up.pipe_w = t->down.pipe_r = t->down.pipe_w = -1;
  t->next = tunnels;
  if (tunnels) tunnels->prev = t;
  tunnels = t;
  return t;
}

static void tunnel_close(struct tunnel *t, const char *reason) {
  for (int s = 0; s < 2; s++) {
    if (t->ends[s].fd >= 0) {
      if (t->started && !t->ends[s].hung_up) epoll_ctl(epfd, EPOLL_CTL_DEL, t->ends[s].fd, NULL);
      close(t->ends[s].fd);
    }
  }
  int pipes[] = {t->up.pipe_r, t->up.pipe_w, t->down.pipe_r, t->down.pipe_w};
  for (size_t i = 0; i < 4; i++)
    if (pipes[i] >= 0) close(pipes[i]);
  free(t->up.pre);
  free(t->down.pre);
  char line[256];
  snprintf(line, sizeof line, "{\"closed\":%lld,\"up\":%llu,\"down\":%llu,\"reason\":\"%s\"}\n", t->id,
           (unsigned long long)t->up.bytes, (unsigned long long)t->down.bytes, reason);
  channel_send(line);
  if (t->prev) t->prev->next = t->next;
  else tunnels = t->next;
  if (t->next) t->next->prev = t->prev;
  t->closed = true;
  t->next = graveyard;
  graveyard = t;
}

// What each socket needs from epoll: readable when its outgoing flow has room to read into,
// writable when its incoming flow has bytes waiting for it.
static void tunnel_watch(struct tunnel *t) {
  struct flow *outgoing[2] = {&t->up, &t->down};
  struct flow *incoming[2] = {&t->down, &t->up};
  for (int s = 0; s < 2; s++) {
    uint32_t want = 0;
    struct flow *o = outgoing[s], *i = incoming[s];
    if (!o->eof && o->in_pipe == 0) want |= EPOLLIN;
    if (i->in_pipe > 0 || i->pre_off < i->pre_len) want |= EPOLLOUT;
    struct endpoint *e = &t->ends[s];
    if (e->hung_up || want == e->events) continue;
    struct epoll_event ev = {.events = want, .data.ptr = e};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, e->fd, &ev) < 0) fatal("epoll_ctl tunnel");
    e->events = want;
  }
}

enum step { BLOCKED, FINISHED, FAILED };

// Bytes one direction moves per wake-up before the other tunnels get their turn (the sockets
// stay ready, so epoll wakes us again at once).
#define BUDGET_BYTES (4 * 1024 * 1024)

// Moves what can move now in one direction. FINISHED: end of stream passed on. `bounded`:
// stop after BUDGET_BYTES (a hung-up source is drained without a budget: nothing would wake
// us for the rest).
static enum step pump(struct flow *f, int from, int to, bool bounded, const char **why) {
  for (uint64_t start = f->bytes; !bounded || f->bytes - start < BUDGET_BYTES;) {
    if (f->pre_off < f->pre_len) {
      ssize_t n = write(to, f->pre + f->pre_off, f->pre_len - f->pre_off);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return BLOCKED;
        *why = "write_error";
        return FAILED;
      }
      f->pre_off += (size_t)n;
      continue;
    }
    if (f->in_pipe > 0) {
      ssize_t n = splice(f->pipe_r, NULL, to, NULL, f->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return BLOCKED;
        *why = "write_error";
        return FAILED;
      }
      f->in_pipe -= (size_t)n;
      f->bytes += (uint64_t)n;
      continue;
    }
    if (f->eof) {
      if (!f->shut) {
        f->shut = true;
        // Half-close passes through: the peer sees end of stream this way only.
        if (shutdown(to, SHUT_WR) < 0 && errno != ENOTCONN) {
          *why = "shutdown_error";
          return FAILED;
        }
      }
      return FINISHED;
    }
    ssize_t n = splice(from, NULL, f->pipe_w, NULL, PIPE_BYTES, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return BLOCKED;
      *why = "read_error";
      return FAILED;
    }
    if (n == 0) {
      f->eof = true;
      continue;
    }
    f->in_pipe += (size_t)n;
  }
  return BLOCKED;
}

static void tunnel_pump(struct tunnel *t) {
  const char *why = "error";
  int client = t->ends[CLIENT].fd, upstream = t->ends[UPSTREAM].fd;
  enum step up = pump(&t->up, client, upstream, !t->ends[CLIENT].hung_up, &why);
  enum step down = up == FAILED ? FAILED : pump(&t->down, upstream, client, !t->ends[UPSTREAM].hung_up, &why);
  t->last_active = now_ms();
  if (up == FAILED || down == FAILED) return tunnel_close(t, why);
  if (up == FINISHED && down == FINISHED) return tunnel_close(t, "eof");
  tunnel_watch(t);
}

// The sandbox's side of a tunnel is a link inside this host: a veth, or loopback. BBR paces
// every send to its estimate of the path's bandwidth, and on such a link that estimate is the
// bottleneck: where BBR is the host's default, a bulk download into the sandbox ran at 1.4-1.8
// GB/s paced against 2.3-2.9 GB/s with reno, on loopback on a two-core VM. A loss-based
// controller fills a link that does not drop; reno is the one every process may choose
// (net.ipv4.tcp_allowed_congestion_control). Any other choice of the host's stands, and the
// upstream side keeps the host's choice whatever it is: it crosses the network that choice is for.
static void unpace_sandbox_side(int fd) {
  char name[16] = {0};
  socklen_t len = sizeof name - 1;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) < 0 || strncmp(name, "bbr", 3) != 0) return;
  // Best effort: a socket left paced is slower, not less safe.
  (void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", strlen("reno"));
}

static void tunnel_start(struct tunnel *t) {
  flow_init(&t->up);
  flow_init(&t->down);
  for (int s = 0; s < 2; s++) {
    struct endpoint *e = &t->ends[s];
    struct epoll_event ev = {.events = 0, .data.ptr = e};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->fd, &ev) < 0) fatal("epoll_ctl add");
    // Best effort: a socket that keeps the autotuned buffer only moves less per wake-up.
    int size = SEND_BUFFER_BYTES;
    (void)setsockopt(e->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  unpace_sandbox_side(t->ends[CLIENT].fd);
  t->started = true;
  if (t->idle_ms > 0 && t->idle_ms / 4 < sweep_every) sweep_every = t->idle_ms / 4 < 10 ? 10 : (int)(t->idle_ms / 4);
  tunnel_pump(t);
}

// ---- the channel's input ----

// The value of "key" in a flat JSON object written by JSON.stringify: a number or a string
// without escapes (our fields are digits and base64). NULL when absent.
static const char *field(const char *json, const char *key, size_t *len) {
  char pattern[32];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *at = strstr(json, pattern);
  if (!at) return NULL;
  at += strlen(pattern);
  if (*at == '"') {
    const char *end = strchr(at + 1, '"');
    if (!end) return NULL;
    *len = (size_t)(end - at - 1);
    return at + 1;
  }
  size_t n = strspn(at, "-0123456789");
  *len = n;
  return n ? at : NULL;
}

static long long number_field(const char *json, const char *key, long long fallback) {
  size_t len;
  const char *value = field(json, key, &len);
  return value ? strtoll(value, NULL, 10) : fallback;
}

static int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

static unsigned char *base64_decode(const char *text, size_t len, size_t *out_len) {
  unsigned char *out = malloc(len / 4 * 3 + 3);
  if (!out) fatal("malloc");
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len && text[i] != '='; i++) {
    int v = base64_value((unsigned char)text[i]);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  *out_len = n;
  return out;
}

static void protocol_error(const char *what) {
  fprintf(stderr, "paddock-relay: bad message from the gateway: %s\n", what);
  exit(2);
}

static void take_handle(const char *msg, int fd) {
  long long id = number_field(msg, "id", -1);
  size_t side_len;
  const char *side = field(msg, "side", &side_len);
  if (id < 0 || !side || side_len != 1 || (side[0] != 'c' && side[0] != 'u')) {
    close(fd);
    protocol_error("a socket without id and side");
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fatal("fcntl");
  struct tunnel *t = tunnel_for(id);
  struct endpoint *e = &t->ends[side[0] == 'c' ? CLIENT : UPSTREAM];
  if (e->fd >= 0) {
    close(fd);
    protocol_error("a second socket for one side of a tunnel");
  }
  e->fd = fd;
  if (side[0] == 'c') t->idle_ms = number_field(msg, "idle", 300000);
  // Bytes the gateway already read from this side go out to the other side first.
  struct flow *from_here = side[0] == 'c' ? &t->up : &t->down;
  size_t pre_len;
  const char *pre = field(msg, "pre", &pre_len);
  if (pre && pre_len > 0) {
    from_here->pre = base64_decode(pre, pre_len, &from_here->pre_len);
    if (!from_here->pre) protocol_error("pre is not base64");
  }
  t->last_active = now_ms();
  if (t->ends[CLIENT].fd >= 0 && t->ends[UPSTREAM].fd >= 0) tunnel_start(t);
}

static void handle_line(char *line) {
  if (strstr(line, "\"cmd\":\"NODE_HANDLE\"")) {
    if (queued_fd_count == 0) protocol_error("NODE_HANDLE without a socket");
    int fd = queued_fds[0];
    memmove(queued_fds, queued_fds + 1, --queued_fd_count * sizeof(int));
    channel_send("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
    const char *msg = strstr(line, "\"msg\":{");
    if (!msg) {
      close(fd);
      protocol_error("NODE_HANDLE without msg");
    }
    take_handle(msg, fd);
    return;
  }
  if (strstr(line, "\"op\":\"close\"")) {
    struct tunnel *t = find_tunnel(number_field(line, "id", -1));
    if (t) tunnel_close(t, "closed_by_gateway");
  }
  // Anything else (Node's own bookkeeping messages) is not ours to act on.
}

static void channel_read(void) {
  for (;;) {
    if (in_cap - in_len < 65536) {
      in_cap = in_cap ? in_cap * 2 : 131072;
      if (in_cap > MAX_LINE * 2) protocol_error("a message longer than 1 MiB");
      in_buf = realloc(in_buf, in_cap);
      if (!in_buf) fatal("realloc");
    }
    char control[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_READ)];
    struct iovec iov = {.iov_base = in_buf + in_len, .iov_len = in_cap - in_len - 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n = recvmsg(channel, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      fatal("recvmsg");
    }
    if (n == 0) {
      // The gateway is gone: so is every tunnel it admitted.
      while (tunnels) tunnel_close(tunnels, "gateway_gone");
      exit(0);
    }
    if (mh.msg_flags & MSG_CTRUNC) protocol_error("more sockets than expected in one read");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int *fds = (int *)CMSG_DATA(c);
      for (size_t i = 0; i < count; i++) {
        if (queued_fd_count == MAX_QUEUED_FDS) protocol_error("too many sockets without messages");
        queued_fds[queued_fd_count++] = fds[i];
      }
    }
    in_len += (size_t)n;
    in_buf[in_len] = '\0';
    char *start = in_buf, *nl;
    while ((nl = memchr(start, '\n', in_len - (size_t)(start - in_buf)))) {
      *nl = '\0';
      handle_line(start);
      start = nl + 1;
    }
    size_t rest = in_len - (size_t)(start - in_buf);
    if (rest > MAX_LINE) protocol_error("a message longer than 1 MiB");
    memmove(in_buf, start, rest);
    in_len = rest;
  }
}

// Closes tunnels quiet for longer than their idle timeout; returns how soon to look again: a
// quarter of the shortest timeout, between 10 ms and 1 s.
static int sweep_idle(void) {
  long long now = now_ms(), shortest = 4000;
  struct tunnel *t = tunnels;
  while (t) {
    struct tunnel *next = t->next;
    if (t->started && t->idle_ms > 0) {
      if (now - t->last_active > t->idle_ms) tunnel_close(t, "idle");
      else if (t->idle_ms < shortest) shortest = t->idle_ms;
    }
    t = next;
  }
  long long interval = shortest / 4;
  return interval < 10 ? 10 : (int)interval;
}

int main(void) {
  const char *fd_text = getenv("NODE_CHANNEL_FD");
  if (!fd_text) {
    fprintf(stderr, "paddock-relay: run by the egress gateway only (no NODE_CHANNEL_FD)\n");
    return 2;
  }
  channel = atoi(fd_text);
  signal(SIGPIPE, SIG_IGN);
  // Sockets it is handed work whoever we are: started by a root supervisor, shed root first.
  if (geteuid() == 0) {
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) fatal("dropping root");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fatal("no_new_privs");
  int flags = fcntl(channel, F_GETFL);
  if (flags < 0 || fcntl(channel, F_SETFL, flags | O_NONBLOCK) < 0) fatal("channel fcntl");
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fatal("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, channel, &ev) < 0) fatal("epoll_ctl channel");

  struct epoll_event events[256];
  long long last_sweep = now_ms();
  for (;;) {
    int n = epoll_wait(epfd, events, 256, sweep_every);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct endpoint *e = events[i].data.ptr;
      if (!e) {
        if (events[i].events & EPOLLOUT) channel_flush();
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) channel_read();
        continue;
      }
      struct tunnel *t = e->tunnel;
      if (t->closed) continue;
      if (events[i].events & EPOLLERR) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &error, &len);
        tunnel_close(t, error == ECONNRESET ? "reset" : "socket_error");
        continue;
      }
      if ((events[i].events & EPOLLHUP) && !e->hung_up) {
        e->hung_up = true;
        if (epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL) < 0) fatal("epoll_ctl del");
      }
      tunnel_pump(t);
    }
    while (graveyard) {
      struct tunnel *dead = graveyard;
      graveyard = dead->next;
      free(dead);
    }
    long long now = now_ms();
    if (now - last_sweep >= sweep_every) {
      sweep_every = sweep_idle();
      last_sweep = now;
    }
  }
}
