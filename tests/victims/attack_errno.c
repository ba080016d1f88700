// attack: issue-12 features — writes to control files from inside a
// member (syscalls.mode: no self-release through complain mode).
#include "attack.h"

// wfile PATH TEXT: one write(2) of "TEXT\n" to PATH; "wfile ok" or the errno.
void wfile(const char* path, const char* text) {
  char buf[256];
  const int n = snprintf(buf, sizeof buf, "%s\n", text);
  const int fd = open(path, O_WRONLY);
  if (fd < 0) {
    say("wfile %s", en(errno));
    return;
  }
  const ssize_t w = write(fd, buf, (size_t)n);
  const int e = w < 0 ? errno : 0;
  close(fd);
  say("wfile %s", en(e));
}
