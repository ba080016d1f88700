// attack: races against a move or a tightening — a fork-and-exit chain
// (chain) and children forked around a move (forkloop).
#include "attack.h"

// ---------------------------------------------------------------- chain

// attack chain N SPIN_MS: the launcher L (a child subreaper, not a member,
// leader of its own process group) forks the member A and prints "member
// PID"; A waits for "go" on L's stdin. Then A is link 0: each link prints
// "link I PID", spins SPIN_MS calling getppid and uname, forks link I+1 and
// exits at once. L turns the stdin lines "denied" and "allowed" into EOF on
// two pipes every link polls: a link that sees "denied" calls uname and
// prints "denied I PID uname=E" (so every such call comes after the deny
// returned). The last link waits for both and prints "allowed I PID
// uname=E" after the allow. At stdin EOF L kills its process group.
static int chain_n, chain_spin_ms, deny_r, allow_r;
static pid_t chain_launcher;

static void chain_link(int i) {
  for (;;) {
    int reported = 0;
    say("link %d %d", i, getpid());
    const int64_t end = now_ms() + chain_spin_ms;
    while (now_ms() < end) {
      syscall(SYS_getppid);
      do_uname();
      if (!reported && at_eof(deny_r, 0)) {
        reported = 1;
        say("denied %d %d uname=%s", i, getpid(), en(do_uname()));
      }
    }
    if (i + 1 < chain_n) {
      const pid_t c = fork();
      if (c < 0) {
        say("forkfail %d %s", i, en(errno));
        _exit(1);
      }
      if (c > 0) _exit(0);  // the parent exits at once; the child is the next link
      ++i;
      continue;
    }
    // The last link.
    if (!at_eof(deny_r, 20000)) _exit(2);
    if (!reported) say("denied %d %d uname=%s", i, getpid(), en(do_uname()));
    if (!at_eof(allow_r, 20000)) _exit(3);
    say("allowed %d %d uname=%s", i, getpid(), en(do_uname()));
    // Until the launcher kills its process group (getppid may be denied here):
    // a bounded poll of the launcher's existence, not a pause.
    for (int t = 0; t < 30000 && kill(chain_launcher, 0) == 0; t += 10) sleep_us(10000);
    _exit(0);
  }
}

int chain(int n, int spin_ms) {
  chain_n = n;
  chain_spin_ms = spin_ms;
  chain_launcher = getpid();
  if (getpgrp() != getpid()) return 4;
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int start[2], deny[2], allow[2];
  if (pipe2(start, O_CLOEXEC) || pipe2(deny, O_CLOEXEC) || pipe2(allow, O_CLOEXEC)) return 5;
  deny_r = deny[0];
  allow_r = allow[0];
  const pid_t a = fork();
  if (a == 0) {
    close(start[1]);
    close(deny[1]);
    close(allow[1]);
    say("member %d", getpid());
    if (!at_eof(start[0], 30000)) _exit(1);
    chain_link(0);
  }
  close(start[0]);
  close(deny[0]);
  close(allow[0]);
  char line[64];
  for (;;) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 20) > 0) {
      if (!read_line(STDIN_FILENO, line, sizeof line)) break;
      if (!strcmp(line, "go")) close(start[1]);
      if (!strcmp(line, "denied")) close(deny[1]);
      if (!strcmp(line, "allowed")) close(allow[1]);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
  signal(SIGTERM, SIG_DFL);
  kill(-chain_launcher, SIGKILL);  // our own process group, ourselves included
  return 0;
}

// ---------------------------------------------------------------- forkloop

// attack forkloop PROCS: prints "ready"; after "start" forks a child every
// 2 ms. Until the stdin line "moved" the children print "before PID" and
// wait (up to 20 s) for SIGUSR1, then write "0" to PROCS (the root's
// cgroup.procs), call uname and print "probe PID write=E uname=E". After
// "moved" (the move returned before that fork) each child does that at once
// and prints "after PID write=E uname=E"; after 50 of those "after-done".
// "stop" kills the waiting children and exits.

int forkloop(const char* procs) {
  signal(SIGCHLD, SIG_IGN);  // children reap themselves
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  const int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    say("open %s", en(errno));
    return 1;
  }
  enum { kMaxBefore = 400, kAfter = 50 };
  pid_t before[kMaxBefore];
  int n_before = 0, n_after = 0, after = 0, started = 0;
  say("ready");
  char line[64];
  for (;;) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, started ? 0 : -1) > 0) {
      if (!read_line(STDIN_FILENO, line, sizeof line) || !strcmp(line, "stop")) break;
      if (!strcmp(line, "start")) started = 1;
      if (!strcmp(line, "moved")) after = 1;
    }
    if (!started) continue;
    if (after && n_after >= kAfter) continue;
    if (!after && n_before >= kMaxBefore) {
      sleep_us(1000);  // pacing: at most kMaxBefore waiting children
      continue;
    }
    const int is_after = after;
    const pid_t c = fork();
    if (c == 0) {
      if (!is_after) {
        say("before %d", getpid());
        // A bounded wait for SIGUSR1 (up to 20 s), not a pause.
        for (int t = 0; !usr1 && t < 20000; ++t) sleep_us(1000);
        if (!usr1) _exit(0);
      }
      const int w = write_zero(fd);
      const int u = do_uname();
      say("%s %d write=%s uname=%s", is_after ? "after" : "probe", getpid(), en(w), en(u));
      _exit(0);
    }
    if (c < 0) {
      say("fork %s", en(errno));
      break;
    }
    if (is_after) {
      if (++n_after == kAfter) say("after-done");
    } else {
      before[n_before++] = c;
    }
    sleep_us(2000);  // the loop's pace: a fork every 2 ms is the attack
  }
  for (int i = 0; i < n_before; ++i) kill(before[i], SIGKILL);
  return 0;
}
