// paddock-mcp-shim: the native stdio shim (docs/mcp.md, "Endpoints"). The agent's harness runs
// it as its one stdio MCP server; it relays bytes between its stdin/stdout and the MCP
// gateway's unix socket, like `paddock mcp-shim` (shim.ts), without starting Node.js:
//
//   paddock-mcp-shim [--socket PATH]        (default /run/paddock/mcp.sock)
//
// It understands nothing of MCP, so there is nothing in it to configure or bypass. Exit 0 when
// the agent closed stdin and the gateway finished; 1 when the gateway cannot be reached or the
// connection breaks (the reason on stderr); 2 on a usage error.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/paddock/mcp.sock"
#define FIX "run the shim inside a Paddock sandbox whose supervisor serves MCP, or pass --socket PATH"

static const char *error_name(int error) {
  const char *name = strerrorname_np(error);
  return name ? name : strerror(error);
}

__attribute__((noreturn)) static void fail(const char *what, int error) {
  dprintf(2, "error PDK_MCP_SHIM: %s (%s); %s\n", what, error_name(error), FIX);
  _exit(1);
}

// Writes all of buf, or returns the errno that stopped it.
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *path = DEFAULT_SOCKET;
  if (argc == 3 && strcmp(argv[1], "--socket") == 0)
    path = argv[2];
  else if (argc != 1) {
    dprintf(2, "usage: paddock-mcp-shim [--socket PATH]\n");
    return 2;
  }
  // A gone peer is an error return from write(), not a signal that kills us silently.
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) fail("the socket path is too long", ENAMETOOLONG);
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail("cannot create a socket", errno);
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
    char what[160];
    snprintf(what, sizeof what, "no MCP gateway answers at %.100s", path);
    fail(what, errno);
  }

  static char buf[64 * 1024];
  int input_open = 1;
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
  for (;;) {
    fds[0].fd = input_open ? 0 : -1;
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll failed", errno);
    }
    if (input_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0) {
        int error = write_all(sock, buf, (size_t)n);
        if (error) fail("the connection to the MCP gateway broke", error);
      } else if (n == 0) {
        // The agent is done: let the gateway finish its answers, then exit on its close.
        input_open = 0;
        shutdown(sock, SHUT_WR);
      } else if (errno != EINTR && errno != EAGAIN) {
        fail("cannot read standard input", errno);
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, buf, sizeof buf);
      if (n > 0) {
        int error = write_all(1, buf, (size_t)n);
        if (error) fail("cannot write standard output", error);
      } else if (n == 0) {
        if (!input_open) return 0;
        dprintf(2, "error PDK_MCP_SHIM: the MCP gateway closed the connection; %s\n", FIX);
        return 1;
      } else if (errno != EINTR && errno != EAGAIN) {
        fail("the connection to the MCP gateway broke", errno);
      }
    }
  }
}
