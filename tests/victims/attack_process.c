// attack: processes — clone with CLONE_PARENT, clone3, fork and threads,
// children that try to leave their group (forkleave), children probing a
// call first thing (forkprobe).
#include "attack.h"

static void* thread_fn(void* arg) { return arg; }

struct clone_args_v0 {  // struct clone_args up to CLONE_ARGS_SIZE_VER0
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

void clone3_cmd(const char* name, int null_args, uint64_t flags) {
  long r;
  if (null_args) {
    r = syscall(SYS_clone3, NULL, 0);
  } else {
    struct clone_args_v0 a;
    memset(&a, 0, sizeof a);
    a.flags = flags;
    a.exit_signal = SIGCHLD;
    r = syscall(SYS_clone3, &a, sizeof a);
  }
  if (r == 0) _exit(0);
  if (r < 0) {
    say("%s %s", name, en(errno));
    return;
  }
  if (!(flags & CLONE_PARENT)) waitpid((pid_t)r, NULL, 0);
  say("%s ok %ld", name, r);
}

void clone_parent(const char* name, unsigned long extra) {
  const long r = syscall(SYS_clone, (unsigned long)CLONE_PARENT | SIGCHLD | extra, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r < 0)
    say("%s %s", name, en(errno));
  else
    say("%s ok %ld", name, r);  // our parent must reap it
}

void forkleave(const char* path, int n) {
  for (int i = 0; i < n; ++i) {
    int res[2], hold[2];
    if (pipe2(res, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) {
      say("forkleave pipe %s", en(errno));
      return;
    }
    const int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      say("forkleave open %s", en(errno));
      return;
    }
    const pid_t c = fork();
    if (c == 0) {
      const int w = write_zero(fd);
      const int u = do_uname();
      close(hold[1]);
      close(res[0]);
      char line[64];
      const int len = snprintf(line, sizeof line, "write=%s uname=%s", en(w), en(u));
      (void)!write(res[1], line, (size_t)len);
      close(res[1]);
      char b;
      (void)!read(hold[0], &b, 1);  // until our parent lets go
      _exit(0);
    }
    close(fd);
    close(res[1]);
    close(hold[0]);
    if (c < 0) {
      say("forkleave fork %s", en(errno));
      close(res[0]);
      close(hold[1]);
      return;
    }
    char got[64] = {0};
    ssize_t len = 0;
    for (ssize_t r; len < (ssize_t)sizeof got - 1 && (r = read(res[0], got + len, sizeof got - 1 - (size_t)len)) > 0;)
      len += r;
    close(res[0]);
    say("child %d %s", c, len > 0 ? got : "no-report");
    char line[64];
    while (read_line(STDIN_FILENO, line, sizeof line) && strcmp(line, "next") != 0) {
    }
    close(hold[1]);
    waitpid(c, NULL, 0);
  }
  say("forkleave done");
}

void forkprobe(int n, int seq) {
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  int ok = 0, eperm = 0, other = 0, first_other = 0;
  for (int i = 0; i < n; ++i) {
    const pid_t c = fork();
    if (c == 0) _exit(do_uname() & 0x7f);
    pids[i] = c;
    if (seq || c < 0) {
      int st = 0;
      const int code = c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : 0x100;
      if (code == 0)
        ++ok;
      else if (code == EPERM)
        ++eperm;
      else if (++other == 1)
        first_other = code;
      pids[i] = 0;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (pids[i] <= 0) continue;
    int st = 0;
    const int code = waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) ? WEXITSTATUS(st) : 0x100;
    if (code == 0)
      ++ok;
    else if (code == EPERM)
      ++eperm;
    else if (++other == 1)
      first_other = code;
  }
  free(pids);
  say("forkprobe ok=%d EPERM=%d other=%d first-other=%d", ok, eperm, other, first_other);
}

// glibc fork(): "fork ok" when the child's exit status came back.
void fork_cmd(void) {
  const pid_t c = fork();
  if (c == 0) _exit(7);
  int st = 0;
  if (c < 0)
    say("fork %s", en(errno));
  else
    say("fork %s", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "ok" : "bad-status");
}

// glibc pthread_create(): "thread ok" when the thread's result came back.
void thread_cmd(void) {
  pthread_t t;
  void* got = NULL;
  const int e = pthread_create(&t, NULL, thread_fn, (void*)42);
  if (e == 0) pthread_join(t, &got);
  say("thread %s", e != 0 ? en(e) : got == (void*)42 ? "ok" : "bad-result");
}
