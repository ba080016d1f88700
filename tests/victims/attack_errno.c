// attack: issue-12 features — a denied call whose errno is one of the
// kernel's internal restart codes (ERESTARTSYS 512, ERESTARTNOINTR 513,
// ERESTARTNOHAND 514, ERESTART_RESTARTBLOCK 516), made while signals arrive:
// the signal path restarts a system call that "returned" -ERESTART*, so the
// denied call is re-executed (it must meet the filter again, never run);
// and plain writes to control files from inside a member.
#include "attack.h"

#include <sys/time.h>

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
  (void)sig;
  ++alarms;
}

// restartloop MS HZ restart|norestart: SIGALRM every 1/HZ s (none when HZ is
// 0; the test may then stop and continue us), with a handler installed with
// or without SA_RESTART; for MS ms, raw getppid in a loop. Says
// "restartloop calls=N ran=R sigs=S eintr=I e512=A e513=B e514=C e516=D
// other=O last=L": ran counts calls that returned a pid (the denied call ran).
void restartloop(int ms, int hz, int sa_restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = sa_restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it;
  memset(&it, 0, sizeof it);
  if (hz > 0) {
    it.it_interval.tv_usec = 1000000 / hz;
    it.it_value.tv_usec = 1000000 / hz;
    setitimer(ITIMER_REAL, &it, NULL);
  }
  long calls = 0, ran = 0, eintr = 0, e512 = 0, e513 = 0, e514 = 0, e516 = 0, other = 0;
  int last = 0;
  const int64_t end = now_ms() + ms;
  while (now_ms() < end) {
    const long r = syscall(SYS_getppid);
    ++calls;
    if (r >= 0) {
      ++ran;
      continue;
    }
    last = errno;
    switch (errno) {
      case EINTR: ++eintr; break;
      case 512: ++e512; break;
      case 513: ++e513; break;
      case 514: ++e514; break;
      case 516: ++e516; break;
      default: ++other; break;
    }
  }
  memset(&it, 0, sizeof it);
  setitimer(ITIMER_REAL, &it, NULL);
  signal(SIGALRM, SIG_IGN);
  say("restartloop calls=%ld ran=%ld sigs=%d eintr=%ld e512=%ld e513=%ld e514=%ld e516=%ld other=%ld last=%d", calls,
      ran, (int)alarms, eintr, e512, e513, e514, e516, other, last);
  alarms = 0;
}

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
