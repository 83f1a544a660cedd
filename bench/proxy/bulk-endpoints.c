// The proxy benchmark's bulk endpoints, part (a): a source that streams zeros and a sink that
// counts them, in C. On a two-core machine the endpoints share the cores with the proxy under
// test; Node endpoints spend a core handling 64 KiB chunks in JavaScript, which the proxy then
// lacks. These do one read(2) or write(2) of 256 KiB per call and nothing else, so the figure
// is the path's, and direct and every proxy get the same endpoints.
//
//   bulk-endpoints source            listens on 127.0.0.1, prints its port; per connection:
//                                    waits for the client's first line, then writes zeros
//                                    until the client goes
//   bulk-endpoints sink PORT PROXY SECONDS
//                                    connects to 127.0.0.1:PORT, through the HTTP proxy on
//                                    127.0.0.1:PROXY with CONNECT unless PROXY is 0; sends
//                                    "START\n"; after a 0.3 s ramp counts what arrives for
//                                    SECONDS; prints {"bytesPerSecond":N}
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static char buffer[CHUNK];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *what) {
  fprintf(stderr, "bulk-endpoints: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static void serve(int fd) {
  // The first line is the client's go: before it, a proxy still talks to us.
  char c;
  ssize_t n;
  while ((n = read(fd, &c, 1)) == 1 && c != '\n') {
  }
  if (n != 1) _exit(0);
  memset(buffer, 0, sizeof buffer);
  while (write(fd, buffer, sizeof buffer) > 0) {
  }
  _exit(0);
}

static _Noreturn void source(void) {
  signal(SIGCHLD, SIG_IGN);  // children are reaped by the kernel
  signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) fail("socket");
  struct sockaddr_in address = loopback(0);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) fail("bind");
  if (listen(listener, 64) < 0) fail("listen");
  socklen_t length = sizeof address;
  if (getsockname(listener, (struct sockaddr *)&address, &length) < 0) fail("getsockname");
  printf("%d\n", ntohs(address.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR) continue;
      fail("accept");
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(listener);
      serve(fd);
    }
    close(fd);
  }
}

// Reads a response head through its blank line (byte by byte: nothing after it is ours to take).
static void read_head(int fd) {
  char head[4096];
  size_t used = 0;
  while (used < sizeof head - 1) {
    if (read(fd, head + used, 1) != 1) fail("proxy closed before its answer");
    used++;
    if (used >= 4 && memcmp(head + used - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[used] = '\0';
  if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
    fprintf(stderr, "bulk-endpoints: CONNECT refused: %s\n", head);
    exit(1);
  }
}

static int sink(int port, int proxy, double seconds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in address = loopback(proxy ? proxy : port);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (proxy) {
    char request[128];
    int length = snprintf(request, sizeof request,
                          "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port, port);
    if (write(fd, request, (size_t)length) != length) fail("write CONNECT");
    read_head(fd);
  }
  if (write(fd, "START\n", 6) != 6) fail("write START");
  double ramp_end = now() + 0.3;
  while (now() < ramp_end)
    if (read(fd, buffer, sizeof buffer) <= 0) fail("read (ramp)");
  unsigned long long bytes = 0;
  double started = now();
  double deadline = started + seconds;
  double at = started;
  while (at < deadline) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) fail("read");
    bytes += (unsigned long long)n;
    at = now();
  }
  printf("{\"bytesPerSecond\":%.0f}\n", (double)bytes / (at - started));
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "source") == 0) source();
  if (argc == 5 && strcmp(argv[1], "sink") == 0)
    return sink(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
  fprintf(stderr, "usage: bulk-endpoints source | sink PORT PROXY SECONDS\n");
  return 2;
}
