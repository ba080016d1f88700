// attack: filters of the member's own — a used-up filter budget, fakes of
// exit and io_uring_register, a filter refusing seccomp and prctl, and
// seccomp(2) with wide arguments.
#include "attack.h"

// ---------------------------------------------------------------- seccomp

static int install(const struct sock_filter* f, unsigned short len, unsigned long flags) {
  struct sock_fprog prog = {len, (struct sock_filter*)f};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

// Fills the chain's instruction budget (MAX_INSNS_PER_PATH, each filter
// costing its length + 4) with allow filters of 4096 instructions, then
// smaller ones down to one instruction, until the kernel says ENOMEM.
void fill(void) {
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

// A filter of its own that fakes exit (ERRNO(0): returns 0, runs nothing),
// so that the private thread holding the daemon's listener would stay, with
// the listener in its table, after the injected exit.
void fakeexit(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
  };
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  say("fakeexit %s", en(install(f, sizeof f / sizeof f[0], 0) != 0 ? errno : 0));
}

// A filter of its own answering io_uring_register with EINVAL, the kernel's
// answer for "this thread never used io_uring": it would hide a registered
// ring from the daemon's probe.
void fakeuringreg(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_register, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
  };
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  say("fakeuringreg %s", en(install(f, sizeof f / sizeof f[0], 0) != 0 ? errno : 0));
}

void blockseccomp(void) {
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

void seccomp_wide(unsigned long op, unsigned long flags) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  const long r = syscall(SYS_seccomp, op, flags, &prog);
  if (r < 0) {
    say("seccomp_wide %s", en(errno));
    return;
  }
  say("seccomp_wide ok %ld", r);  // a listener fd of its own, kept
}

void manygroups(int n) {
  static gid_t groups[65536];
  if (n < 0 || n > 65536) n = 65536;
  for (int k = 0; k < n; ++k) groups[k] = (gid_t)(100000 + k);
  if (syscall(SYS_setgroups, n, groups) != 0) {
    say("groups %s", en(errno));
    return;
  }
  // The size of our own status file, read whole.
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  long total = 0;
  char buf[8192];
  for (ssize_t r; fd >= 0 && (r = read(fd, buf, sizeof buf)) > 0;) total += r;
  if (fd >= 0) close(fd);
  say("groups ok %ld", total);
}
