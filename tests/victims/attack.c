// attack: the members of soundness_test (issue 9). Each mode is one class of
// attack on the enforcer's soundness; raw system calls where glibc has no
// wrapper, io_uring through <linux/io_uring.h> without liburing. Output goes
// to stdout with one write(2) per line (children and threads share it).
//
//   attack serve             print "ready", then run one command per stdin
//                            line and print "COMMAND RESULT..."
//   attack probe CMD...      run each argument as a command, then exit
//   attack waitsig MODE…     print "ready", wait for SIGUSR1, then run MODE…
//   attack join PROCS MODE…  write its own pid to PROCS (a cgroup.procs), print
//                            "joined ok|ERR", then run MODE…
//   attack chain N SPIN_MS   a fork-and-exit chain (see chain() below)
//   attack forkloop PROCS    fork children while being moved (see forkloop())
//   attack vforkthread       main thread vforks on request while another
//                            thread serves stdin and loops on uname
//   attack leaderexit        two worker threads loop on uname; the main
//                            thread can pthread_exit (see leaderexit())
//
// Commands (results are "ok" or the errno's name, e.g. EPERM):
//   uname | getppid | nnp               the call (nnp: prints the flag)
//   leave PATH                          write "0" to PATH (a cgroup.procs)
//   forkleave PATH N                    N times: fork a child that at once
//                                       writes "0" to PATH (opened before the
//                                       fork) and calls uname; print "child PID
//                                       write=E uname=E"; wait for a stdin line
//                                       "next", then end and reap the child
//   forkprobe N [seq]                   fork N children (all at once, or one
//                                       after another) that call uname first
//                                       thing; "forkprobe ok=A EPERM=B other=C"
//   clone_parent | clone_parent_hi      raw clone(CLONE_PARENT|SIGCHLD) (_hi:
//                                       with bit 32 set too); "ok PID" (the
//                                       child exits at once: the caller's
//                                       parent must reap it) or the errno
//   clone3_null | clone3 | clone3_parent  raw clone3(NULL, 0), clone3 of a
//                                       plain child, and with CLONE_PARENT
//   fork | thread                       glibc fork() / pthread_create()
//   fill                                fill the kernel's per-chain filter
//                                       budget with allow filters: "fill N
//                                       ENOMEM" (N filters installed)
//   blockseccomp                        a filter of its own: seccomp and prctl
//                                       return EACCES
//   seccomp_wide OP FLAGS               raw seccomp(OP, FLAGS, allow-all prog),
//                                       64-bit arguments as given
//   uring_calls                         io_uring_setup/enter/register once each
//   uring_hold                          set up a ring and keep its fd
//   uring_sqpoll_map                    an SQPOLL ring, mapped, its fd closed
//   uring_registered                    a ring kept only in the thread's
//                                       registered-ring table (no fd, no map)
//   fakeuringreg                        a filter of its own: io_uring_register
//                                       -> EINVAL ("never used io_uring")
//   fakeclose                           a filter of its own: close -> ERRNO(0)
//   uring_nop | uring_read PATH [held]  a ring running NOP / OPENAT + READ
//                                       ("held": through the ring of uring_hold)
//   tidat PID                           create threads until one has thread
//                                       id PID (through ns_last_pid), which
//                                       calls uname: "tidat PID uname=E"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif

// ---------------------------------------------------------------- output

static void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* fmt, ...) {
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
static const char* en(int e) {
  if (e == 0) return "ok";
  const char* name = strerrorname_np(e);
  return name ? name : "E?";
}

// The errno of a raw call's result (0 when it succeeded).
static int err_of(long r) { return r < 0 ? errno : 0; }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// One line from fd (without the newline) into buf; 0 at EOF.
static int read_line(int fd, char* buf, size_t size) {
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
static int at_eof(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return 0;
  char c;
  return read(fd, &c, 1) == 0;
}

// ---------------------------------------------------------------- calls

static int do_uname(void) {
  struct utsname u;
  return err_of(syscall(SYS_uname, &u));
}

// One write(2) of "0\n" to an open cgroup.procs: 0 or the errno.
static int write_zero(int fd) {
  const ssize_t n = write(fd, "0\n", 2);
  return n == 2 ? 0 : n < 0 ? errno : EIO;
}

static int leave(const char* path) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int e = write_zero(fd);
  close(fd);
  return e;
}

static void* thread_fn(void* arg) { return arg; }

struct clone_args_v0 {  // struct clone_args up to CLONE_ARGS_SIZE_VER0
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void clone3_cmd(const char* name, int null_args, uint64_t flags) {
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

static void clone_parent(const char* name, unsigned long extra) {
  const long r = syscall(SYS_clone, (unsigned long)CLONE_PARENT | SIGCHLD | extra, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r < 0)
    say("%s %s", name, en(errno));
  else
    say("%s ok %ld", name, r);  // our parent must reap it
}

static void forkleave(const char* path, int n) {
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

static void forkprobe(int n, int seq) {
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  int ok = 0, eperm = 0, other = 0, first_other = 0;
  for (int i = 0; i < n; ++i) {
    const pid_t c = fork();
    if (c == 0) _exit(do_uname() & 0x7f);
    pids[i] = c;
    if (seq || c < 0) {
      int st = 0;
      const int code = c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : 0x100;
      if (code == 0) ++ok; else if (code == EPERM) ++eperm; else if (++other == 1) first_other = code;
      pids[i] = 0;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (pids[i] <= 0) continue;
    int st = 0;
    const int code = waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) ? WEXITSTATUS(st) : 0x100;
    if (code == 0) ++ok; else if (code == EPERM) ++eperm; else if (++other == 1) first_other = code;
  }
  free(pids);
  say("forkprobe ok=%d EPERM=%d other=%d first-other=%d", ok, eperm, other, first_other);
}

// ---------------------------------------------------------------- seccomp

static int install(const struct sock_filter* f, unsigned short len, unsigned long flags) {
  struct sock_fprog prog = {len, (struct sock_filter*)f};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

// Fills the chain's instruction budget (MAX_INSNS_PER_PATH, each filter
// costing its length + 4) with allow filters of 4096 instructions, then
// smaller ones down to one instruction, until the kernel says ENOMEM.
static void fill(void) {
  enum { kMax = 4096 };
  static struct sock_filter big[kMax];
  for (int i = 0; i < kMax - 1; ++i) big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
  big[kMax - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  int count = 0, last = 0;
  for (int size = kMax; size >= 1;) {
    if (install(big + kMax - size, (unsigned short)size, 0) == 0) {
      ++count;
      continue;
    }
    last = errno;
    if (last != ENOMEM) break;
    size /= 2;
  }
  say("fill %d %s", count, en(last));
}

// A filter of its own that fakes close (ERRNO(0): returns 0, runs nothing),
// so that the daemon's listener would stay in its table after the injected
// close (found by an attacker review).
static void fakeclose(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
  };
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  say("fakeclose %s", en(install(f, sizeof f / sizeof f[0], 0) != 0 ? errno : 0));
}

// A filter of its own answering io_uring_register with EINVAL, the kernel's
// answer for "this thread never used io_uring": it would hide a registered
// ring from the daemon's probe.
static void fakeuringreg(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_register, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
  };
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  say("fakeuringreg %s", en(install(f, sizeof f / sizeof f[0], 0) != 0 ? errno : 0));
}

static void blockseccomp(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
  };
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (install(f, sizeof f / sizeof f[0], 0) != 0) {
    say("blockseccomp %s", en(errno));
    return;
  }
  const int check = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) < 0 ? errno : 0;
  say("blockseccomp ok prctl=%s", en(check));
}

static void seccomp_wide(unsigned long op, unsigned long flags) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  const long r = syscall(SYS_seccomp, op, flags, &prog);
  if (r < 0) {
    say("seccomp_wide %s", en(errno));
    return;
  }
  say("seccomp_wide ok %ld", r);  // a listener fd of its own, kept
}

// ---------------------------------------------------------------- io_uring

struct ring {
  int fd;
  struct io_uring_params p;
  void *sq_ptr, *cq_ptr;
  size_t sq_len, cq_len, sqes_len;
  struct io_uring_sqe* sqes;
  unsigned *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe* cqes;
};

// 0 or the errno (of io_uring_setup, or of mmap).
static int ring_init(struct ring* r, unsigned entries, unsigned flags) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->p.flags = flags;
  if (flags & IORING_SETUP_SQPOLL) r->p.sq_thread_idle = 1000;
  const long fd = syscall(SYS_io_uring_setup, entries, &r->p);
  if (fd < 0) return errno;
  r->fd = (int)fd;
  r->sq_len = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
  r->cq_len = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
  const int single = (r->p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) r->sq_len = r->cq_len = r->sq_len > r->cq_len ? r->sq_len : r->cq_len;
  r->sq_ptr = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (r->sq_ptr == MAP_FAILED) return errno;
  r->cq_ptr = single ? r->sq_ptr
                     : mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                            IORING_OFF_CQ_RING);
  if (r->cq_ptr == MAP_FAILED) return errno;
  r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
  r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) return errno;
  char* sq = r->sq_ptr;
  char* cq = r->cq_ptr;
  r->sq_tail = (unsigned*)(sq + r->p.sq_off.tail);
  r->sq_mask = (unsigned*)(sq + r->p.sq_off.ring_mask);
  r->sq_array = (unsigned*)(sq + r->p.sq_off.array);
  r->cq_head = (unsigned*)(cq + r->p.cq_off.head);
  r->cq_tail = (unsigned*)(cq + r->p.cq_off.tail);
  r->cq_mask = (unsigned*)(cq + r->p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe*)(cq + r->p.cq_off.cqes);
  return 0;
}

static void ring_free(struct ring* r) {
  if (r->sqes && r->sqes != MAP_FAILED) munmap(r->sqes, r->sqes_len);
  if (r->cq_ptr && r->cq_ptr != MAP_FAILED && r->cq_ptr != r->sq_ptr) munmap(r->cq_ptr, r->cq_len);
  if (r->sq_ptr && r->sq_ptr != MAP_FAILED) munmap(r->sq_ptr, r->sq_len);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
}

// Submits one SQE and waits for its completion: 0 (and *res) or the errno
// of io_uring_enter.
static int ring_run(struct ring* r, const struct io_uring_sqe* sqe, int* res) {
  const unsigned tail = *r->sq_tail;
  const unsigned idx = tail & *r->sq_mask;
  r->sqes[idx] = *sqe;
  r->sq_array[idx] = idx;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return errno;
  const unsigned head = *r->cq_head;
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return EAGAIN;
  *res = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
  return 0;
}

static void uring_calls(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  const long fd = syscall(SYS_io_uring_setup, 4, &p);
  const int setup = err_of(fd);
  if (fd >= 0) close((int)fd);
  const int enter = err_of(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
  const int reg = err_of(syscall(SYS_io_uring_register, -1, 0, NULL, 0));
  say("uring_calls setup=%s enter=%s register=%s", en(setup), en(enter), en(reg));
}

static void uring_nop(void) {
  struct ring r;
  int e = ring_init(&r, 4, 0), res = -1;
  if (e == 0) {
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_NOP;
    e = ring_run(&r, &sqe, &res);
  }
  ring_free(&r);
  if (e != 0)
    say("uring_nop %s", en(e));
  else
    say("uring_nop %s", res == 0 ? "ok" : en(-res));
}

static struct ring held;  // uring_hold / uring_sqpoll_map keep theirs

static void uring_read(const char* path, int use_held) {
  struct ring own;
  struct ring* rp = use_held ? &held : &own;
  int e = use_held ? (held.fd >= 0 && held.sqes ? 0 : EBADF) : ring_init(&own, 4, 0), fd = -1, n = -1;
  if (e != 0) {
    if (!use_held) ring_free(&own);
    say("uring_read setup=%s", en(e));
    return;
  }
  struct ring r = *rp;
  struct io_uring_sqe sqe;
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_OPENAT;
  sqe.fd = AT_FDCWD;
  sqe.addr = (uint64_t)(uintptr_t)path;
  sqe.open_flags = O_RDONLY | O_CLOEXEC;
  e = ring_run(&r, &sqe, &fd);
  if (e != 0 || fd < 0) {
    if (!use_held) ring_free(&r);
    say("uring_read openat=%s", en(e != 0 ? e : -fd));
    return;
  }
  char buf[256] = {0};
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_READ;
  sqe.fd = fd;
  sqe.addr = (uint64_t)(uintptr_t)buf;
  sqe.len = sizeof buf - 1;
  e = ring_run(&r, &sqe, &n);
  close(fd);
  if (!use_held) ring_free(&r);
  if (e != 0 || n < 0) {
    say("uring_read read=%s", en(e != 0 ? e : -n));
    return;
  }
  buf[n] = 0;
  buf[strcspn(buf, "\n")] = 0;
  say("uring_read ok %s", buf);
}

// ---------------------------------------------------------------- recycled tids

static int target_tid;
static int tid_uname = -1;

static void* tid_thread(void* arg) {
  (void)arg;
  if (gettid() == target_tid) tid_uname = do_uname();
  return (void*)(intptr_t)gettid();
}

static void tidat(int pid) {
  target_tid = pid;
  tid_uname = -1;
  for (int tries = 1; tries <= 500; ++tries) {
    const int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      say("tidat %d ns_last_pid %s", pid, en(errno));
      return;
    }
    char num[16];
    const int len = snprintf(num, sizeof num, "%d", pid - 1);
    const ssize_t w = write(fd, num, (size_t)len);
    close(fd);
    if (w != len) {
      say("tidat %d ns_last_pid-write %s", pid, en(errno));
      return;
    }
    pthread_t t;
    const int e = pthread_create(&t, NULL, tid_thread, NULL);
    if (e != 0) {
      say("tidat %d pthread_create %s", pid, en(e));
      return;
    }
    void* got;
    pthread_join(t, &got);
    if ((int)(intptr_t)got == pid) {
      say("tidat %d uname=%s tries=%d", pid, en(tid_uname), tries);
      return;
    }
  }
  say("tidat %d failed", pid);
}

// ---------------------------------------------------------------- commands

static void command(char* line) {
  char* save = NULL;
  const char* cmd = strtok_r(line, " ", &save);
  const char* a1 = strtok_r(NULL, " ", &save);
  const char* a2 = strtok_r(NULL, " ", &save);
  if (!cmd) return;
  if (!strcmp(cmd, "uname")) {
    say("uname %s", en(do_uname()));
  } else if (!strcmp(cmd, "getppid")) {
    say("getppid %s", en(err_of(syscall(SYS_getppid))));
  } else if (!strcmp(cmd, "nnp")) {
    const int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (r < 0) say("nnp %s", en(errno)); else say("nnp %d", r);
  } else if (!strcmp(cmd, "leave") && a1) {
    say("leave %s", en(leave(a1)));
  } else if (!strcmp(cmd, "forkleave") && a1 && a2) {
    forkleave(a1, atoi(a2));
  } else if (!strcmp(cmd, "forkprobe") && a1) {
    forkprobe(atoi(a1), a2 && !strcmp(a2, "seq"));
  } else if (!strcmp(cmd, "clone_parent")) {
    clone_parent(cmd, 0);
  } else if (!strcmp(cmd, "clone_parent_hi")) {
    clone_parent(cmd, 1UL << 32);
  } else if (!strcmp(cmd, "clone3_null")) {
    clone3_cmd(cmd, 1, 0);
  } else if (!strcmp(cmd, "clone3")) {
    clone3_cmd(cmd, 0, 0);
  } else if (!strcmp(cmd, "clone3_parent")) {
    clone3_cmd(cmd, 0, CLONE_PARENT);
  } else if (!strcmp(cmd, "fork")) {
    const pid_t c = fork();
    if (c == 0) _exit(7);
    int st = 0;
    if (c < 0) say("fork %s", en(errno));
    else say("fork %s", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "ok" : "bad-status");
  } else if (!strcmp(cmd, "thread")) {
    pthread_t t;
    void* got = NULL;
    const int e = pthread_create(&t, NULL, thread_fn, (void*)42);
    if (e == 0) pthread_join(t, &got);
    say("thread %s", e != 0 ? en(e) : got == (void*)42 ? "ok" : "bad-result");
  } else if (!strcmp(cmd, "fill")) {
    fill();
  } else if (!strcmp(cmd, "fakeuringreg")) {
    fakeuringreg();
  } else if (!strcmp(cmd, "fakeclose")) {
    fakeclose();
  } else if (!strcmp(cmd, "blockseccomp")) {
    blockseccomp();
  } else if (!strcmp(cmd, "seccomp_wide") && a1 && a2) {
    seccomp_wide(strtoul(a1, NULL, 0), strtoul(a2, NULL, 0));
  } else if (!strcmp(cmd, "uring_calls")) {
    uring_calls();
  } else if (!strcmp(cmd, "uring_hold") || !strcmp(cmd, "uring_sqpoll_map")) {
    const int sqpoll = !strcmp(cmd, "uring_sqpoll_map");
    const int e = ring_init(&held, 4, sqpoll ? IORING_SETUP_SQPOLL : 0);
    if (e == 0 && sqpoll) {
      close(held.fd);  // only the mapping keeps the ring
      held.fd = -1;
    }
    say("%s %s", cmd, en(e));
  } else if (!strcmp(cmd, "uring_registered")) {
    struct ring r;
    int e = ring_init(&r, 4, 0);
    if (e == 0) {
      struct io_uring_rsrc_update up;
      memset(&up, 0, sizeof up);
      up.offset = (uint32_t)-1;  // any free slot
      up.data = (uint64_t)r.fd;
      if (syscall(SYS_io_uring_register, r.fd, IORING_REGISTER_RING_FDS, &up, 1) != 1) e = errno;
    }
    ring_free(&r);  // unmapped and closed: only the registered-ring table keeps it
    say("%s %s", cmd, en(e));
  } else if (!strcmp(cmd, "uring_nop")) {
    uring_nop();
  } else if (!strcmp(cmd, "uring_read") && a1) {
    uring_read(a1, a2 && !strcmp(a2, "held"));
  } else if (!strcmp(cmd, "tidat") && a1) {
    tidat(atoi(a1));
  } else {
    say("%s unknown", cmd);
  }
}

static int serve(void) {
  say("ready");
  char line[512];
  while (read_line(STDIN_FILENO, line, sizeof line)) command(line);
  return 0;
}

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
    // Until the launcher kills its process group (getppid may be denied here).
    for (int t = 0; t < 30000 && kill(chain_launcher, 0) == 0; t += 10) sleep_us(10000);
    _exit(0);
  }
}

static int chain(int n, int spin_ms) {
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
static volatile sig_atomic_t usr1;
static void on_usr1(int sig) {
  (void)sig;
  usr1 = 1;
}

static int forkloop(const char* procs) {
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
      sleep_us(1000);
      continue;
    }
    const int is_after = after;
    const pid_t c = fork();
    if (c == 0) {
      if (!is_after) {
        say("before %d", getpid());
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
    sleep_us(2000);
  }
  for (int i = 0; i < n_before; ++i) kill(before[i], SIGKILL);
  return 0;
}

// ---------------------------------------------------------------- threads

// attack vforkthread: a second thread serves stdin ("vfork MS": the main
// thread vforks a child sleeping MS and prints "vfork-done" when it ends;
// "uname": print "uname E" of a call made now) and calls uname meanwhile.
static int vfork_req[2];

static void* vfork_server(void* arg) {
  (void)arg;
  char line[64];
  for (;;) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 1) <= 0) {
      do_uname();
      continue;
    }
    if (!read_line(STDIN_FILENO, line, sizeof line)) exit(0);
    if (!strncmp(line, "vfork ", 6)) {
      const int ms = atoi(line + 6);
      (void)!write(vfork_req[1], &ms, sizeof ms);
    } else if (!strcmp(line, "uname")) {
      say("uname %s", en(do_uname()));
    }
  }
  return NULL;
}

static int vforkthread(void) {
  if (pipe(vfork_req) != 0) return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, vfork_server, NULL) != 0) return 1;
  say("ready");
  for (int ms; read(vfork_req[0], &ms, sizeof ms) == sizeof ms;) {
    if (vfork() == 0) {
      sleep_us((long)ms * 1000);
      _exit(0);
    }
    say("vfork-done");
  }
  return 0;
}

// attack leaderexit: two worker threads call uname in a loop; the first
// also serves stdin: "exitleader" (the main thread calls pthread_exit;
// prints "exitleader ok"), "report" (prints "R0 R1": the result of a uname
// each worker started after the line was read), "exitall" (both workers
// exit; with the main thread gone the process ends).
static int leader_ctl[2];
static int generation, seen1, last1, quit;

static void* worker1(void* arg) {
  (void)arg;
  while (!__atomic_load_n(&quit, __ATOMIC_ACQUIRE)) {
    const int g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
    const int r = do_uname();
    __atomic_store_n(&last1, r, __ATOMIC_RELEASE);
    __atomic_store_n(&seen1, g, __ATOMIC_RELEASE);
    sleep_us(500);
  }
  pthread_exit(NULL);
}

static void* worker0(void* arg) {
  pthread_t* other = arg;
  char line[64];
  while (read_line(STDIN_FILENO, line, sizeof line)) {
    if (!strcmp(line, "exitleader")) {
      (void)!write(leader_ctl[1], "x", 1);
      say("exitleader ok");
    } else if (!strcmp(line, "report")) {
      const int g = __atomic_add_fetch(&generation, 1, __ATOMIC_ACQ_REL);
      const int r0 = do_uname();
      const int64_t end = now_ms() + 5000;
      while (__atomic_load_n(&seen1, __ATOMIC_ACQUIRE) < g && now_ms() < end) sleep_us(100);
      const int done = __atomic_load_n(&seen1, __ATOMIC_ACQUIRE) >= g;
      say("%s %s", en(r0), done ? en(__atomic_load_n(&last1, __ATOMIC_ACQUIRE)) : "no-call");
    } else if (!strcmp(line, "exitall")) {
      __atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
      pthread_join(*other, NULL);
      pthread_exit(NULL);
    }
  }
  exit(0);
}

static int leaderexit(void) {
  if (pipe(leader_ctl) != 0) return 1;
  static pthread_t t0, t1;
  if (pthread_create(&t1, NULL, worker1, NULL) != 0 || pthread_create(&t0, NULL, worker0, &t1) != 0) return 1;
  say("ready");
  char c;
  if (read(leader_ctl[0], &c, 1) == 1) pthread_exit(NULL);
  return 0;
}

// ---------------------------------------------------------------- main

int main(int argc, char** argv) {
  // Our own process group: the test kills it whole, orphans included.
  (void)setpgid(0, 0);
  int i = 1;
  if (argc > 3 && !strcmp(argv[1], "join")) {
    char num[16];
    const int len = snprintf(num, sizeof num, "%d\n", getpid());
    const int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
    const ssize_t w = fd < 0 ? -1 : write(fd, num, (size_t)len);
    say("joined %s", en(w == len ? 0 : errno));
    if (fd >= 0) close(fd);
    i = 3;
  }
  if (argc > i && !strcmp(argv[i], "waitsig")) {
    // For groups that deny read(2): no stdin commands, a signal to start.
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    say("ready");
    while (!usr1) sigsuspend(&wait_mask);
    ++i;
  }
  const char* mode = argc > i ? argv[i] : "";
  if (!strcmp(mode, "serve")) return serve();
  if (!strcmp(mode, "probe")) {
    for (int k = i + 1; k < argc; ++k) {
      char line[512];
      snprintf(line, sizeof line, "%s", argv[k]);
      command(line);
    }
    return 0;
  }
  if (!strcmp(mode, "chain") && argc > i + 2) return chain(atoi(argv[i + 1]), atoi(argv[i + 2]));
  if (!strcmp(mode, "forkloop") && argc > i + 1) return forkloop(argv[i + 1]);
  if (!strcmp(mode, "vforkthread")) return vforkthread();
  if (!strcmp(mode, "leaderexit")) return leaderexit();
  fprintf(stderr, "usage: attack [join PROCS] serve|probe CMD...|chain N SPIN_MS|forkloop PROCS|vforkthread|leaderexit\n");
  return 2;
}
