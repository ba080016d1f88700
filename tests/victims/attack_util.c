// attack: output, line input and the plain calls every theme uses.
#include "attack.h"

// ---------------------------------------------------------------- output
void say(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  (void)!write(STDOUT_FILENO, line, (size_t)n);
}

// "ok" for 0, else the errno's name.
const char* en(int e) {
  if (e == 0) return "ok";
  const char* name = strerrorname_np(e);
  return name ? name : "E?";
}

// The errno of a raw call's result (0 when it succeeded).
int err_of(long r) { return r < 0 ? errno : 0; }

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// One line from fd (without the newline) into buf; 0 at EOF.
int read_line(int fd, char* buf, size_t size) {
  size_t n = 0;
  for (;;) {
    char c;
    const ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      buf[n] = 0;
      return n > 0;
    }
    if (c == '\n') break;
    if (n + 1 < size) buf[n++] = c;
  }
  buf[n] = 0;
  return 1;
}

// True when the read end `fd` of a pipe nobody writes to reached EOF.
int at_eof(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return 0;
  char c;
  return read(fd, &c, 1) == 0;
}

// ---------------------------------------------------------------- calls

int do_uname(void) {
  struct utsname u;
  return err_of(syscall(SYS_uname, &u));
}

// One write(2) of "0\n" to an open cgroup.procs: 0 or the errno.
int write_zero(int fd) {
  const ssize_t n = write(fd, "0\n", 2);
  return n == 2 ? 0 : n < 0 ? errno : EIO;
}

int leave(const char* path) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int e = write_zero(fd);
  close(fd);
  return e;
}

volatile sig_atomic_t usr1;
void on_usr1(int sig) {
  (void)sig;
  usr1 = 1;
}
