// paddock-hook: the native hook client (docs/hooks.md, "Latency"). It behaves exactly like
// client.js, without the cost of starting Node.js once per tool call:
//
//   paddock-hook <claude-code|codex|gemini> [--socket PATH]
//
// It reads the harness's stdin, sends "PADDOCK-HOOK 1 <harness>\n<stdin>" to the hook socket,
// half-closes, reads "PADDOCK-HOOK 1 <exit> <stdoutBytes> <stderrBytes>\n<stdout><stderr>"
// (framing.ts), writes both and exits with <exit>. It fails closed: every problem exits 2 with
// the reason on stderr, and the whole call is bounded to 2 s from process start.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 2000
#define MAX_INPUT (16L * 1024 * 1024)
#define MAX_REPLY (4L * 1024 * 1024)
#define DEFAULT_SOCKET "/run/paddock/hook.sock"
#define MAGIC "PADDOCK-HOOK 1"

static const char *const FIX_SUPERVISOR = "Run the agent inside a Paddock sandbox whose supervisor is running.";
static const char *const FIX_RETRY = "Retry; if it persists, the workspace supervisor needs attention.";
static const char *const FIX_REPORT = "Report this to the workspace administrator.";
static const char *const FIX_SETTINGS =
    "The managed hook settings are wrong; regenerate them with `paddock hook install`.";

static long long deadline_ms;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((noreturn, format(printf, 2, 3))) static void refuse(const char *fix, const char *format, ...) {
  char why[600];
  va_list args;
  va_start(args, format);
  vsnprintf(why, sizeof why, format, args);
  va_end(args);
  dprintf(2, "Paddock denied this call: %s (PDK_HOOK_UNAVAILABLE). %s\n", why, fix);
  _exit(2);
}

static const char *error_name(int error) {
  const char *name = strerrorname_np(error);
  return name ? name : strerror(error);
}

// Waits until fd is ready or the deadline passes; `late` says what did not happen in time.
static void wait_for(int fd, short events, const char *late) {
  for (;;) {
    long long left = deadline_ms - now_ms();
    if (left <= 0) refuse(FIX_RETRY, "%s within %d ms", late, TIMEOUT_MS);
    struct pollfd p = {.fd = fd, .events = events};
    int ready = poll(&p, 1, (int)left);
    if (ready > 0) return;
    if (ready < 0 && errno != EINTR) refuse(FIX_RETRY, "waiting failed (%s)", error_name(errno));
  }
}

// Reads fd to its end, at most `limit` bytes.
static char *read_all(int fd, long limit, size_t *length, const char *late, const char *too_large, const char *fix) {
  size_t capacity = 65536, used = 0;
  char *buffer = malloc(capacity);
  if (!buffer) refuse(FIX_RETRY, "out of memory");
  for (;;) {
    if (used == capacity) {
      capacity *= 2;
      char *grown = realloc(buffer, capacity);
      if (!grown) refuse(FIX_RETRY, "out of memory");
      buffer = grown;
    }
    wait_for(fd, POLLIN, late);
    ssize_t got = read(fd, buffer + used, capacity - used);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      refuse(FIX_RETRY, "reading failed (%s)", error_name(errno));
    }
    used += (size_t)got;
    if ((long)used > limit) refuse(fix, "%s", too_large);
  }
  *length = used;
  return buffer;
}

static void send_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    wait_for(fd, POLLOUT, "the Paddock supervisor did not take the request");
    ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      refuse(FIX_SUPERVISOR, "sending to the Paddock supervisor failed (%s)", error_name(errno));
    }
    data += sent;
    length -= (size_t)sent;
  }
}

static void write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, data, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    data += written;
    length -= (size_t)written;
  }
}

static int connect_socket(const char *path) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof address.sun_path) refuse(FIX_SETTINGS, "the hook socket path is too long");
  memcpy(address.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) refuse(FIX_RETRY, "no socket (%s)", error_name(errno));
  if (connect(fd, (struct sockaddr *)&address, sizeof address) == 0) return fd;
  if (errno != EAGAIN && errno != EINPROGRESS)
    refuse(FIX_SUPERVISOR, "the Paddock supervisor is unreachable at %s (%s)", path, error_name(errno));
  wait_for(fd, POLLOUT, "the Paddock supervisor did not accept the connection");
  int error = 0;
  socklen_t size = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
    refuse(FIX_SUPERVISOR, "the Paddock supervisor is unreachable at %s (%s)", path, error_name(error));
  return fd;
}

// Parses a decimal of 1 to 10 digits at *cursor, followed by `end`.
static int parse_size(const char **cursor, char end, size_t *value) {
  const char *p = *cursor;
  size_t result = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9' && digits < 10) result = result * 10 + (size_t)(*p++ - '0'), digits++;
  if (digits == 0 || *p != end) return 0;
  *cursor = p + 1;
  *value = result;
  return 1;
}

int main(int argc, char **argv) {
  deadline_ms = now_ms() + TIMEOUT_MS;
  signal(SIGPIPE, SIG_IGN);
  const char *harness = argc > 1 ? argv[1] : "";
  if (strcmp(harness, "claude-code") != 0 && strcmp(harness, "codex") != 0 && strcmp(harness, "gemini") != 0)
    refuse("Run `paddock-hook claude-code|codex|gemini`.", "unknown harness \"%.64s\"", harness);
  const char *socket_path = DEFAULT_SOCKET;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) socket_path = argv[++i];
    else if (strncmp(argv[i], "--socket=", 9) == 0) socket_path = argv[i] + 9;
    else refuse(FIX_SETTINGS, "unknown argument \"%.64s\"", argv[i]);
  }

  size_t input_length;
  char *input = read_all(0, MAX_INPUT, &input_length, "the hook input did not end", "the hook input exceeds 16777216 bytes",
                         "Split the change into smaller tool calls.");
  int fd = connect_socket(socket_path);
  char header[64];
  int header_length = snprintf(header, sizeof header, MAGIC " %s\n", harness);
  send_all(fd, header, (size_t)header_length);
  send_all(fd, input, input_length);
  shutdown(fd, SHUT_WR);

  size_t reply_length;
  char *reply = read_all(fd, MAX_REPLY, &reply_length, "the Paddock supervisor did not answer",
                         "the supervisor answer is too large", FIX_REPORT);
  char *newline = memchr(reply, '\n', reply_length < 64 ? reply_length : 64);
  size_t out_bytes, err_bytes;
  const char *cursor = reply + strlen(MAGIC " ");
  if (!newline || reply_length < strlen(MAGIC " 0 0 0\n") || memcmp(reply, MAGIC " ", strlen(MAGIC " ")) != 0 ||
      (cursor[0] != '0' && cursor[0] != '2') || cursor[1] != ' ')
    refuse(FIX_REPORT, "the supervisor answer is malformed");
  int exit_code = cursor[0] - '0';
  cursor += 2;
  if (!parse_size(&cursor, ' ', &out_bytes) || !parse_size(&cursor, '\n', &err_bytes) || cursor != newline + 1)
    refuse(FIX_REPORT, "the supervisor answer is malformed");
  size_t body = reply_length - (size_t)(newline + 1 - reply);
  if (out_bytes > body || err_bytes != body - out_bytes) refuse(FIX_REPORT, "the supervisor answer is malformed");
  const char *out = newline + 1, *err = out + out_bytes;
  int blank = 1;
  for (size_t i = 0; i < err_bytes; i++)
    if (err[i] != ' ' && err[i] != '\n' && err[i] != '\t' && err[i] != '\r') blank = 0;
  if (exit_code == 2 && blank) refuse(FIX_REPORT, "the supervisor answer is malformed");
  write_all(1, out, out_bytes);
  write_all(2, err, err_bytes);
  return exit_code;
}
