#include "enforcer/recorder.h"

#include "enforcer/sys/error.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <numeric>
#include <set>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace syscg::enforcer {

namespace {

constexpr std::uint64_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

// Restores a signal's disposition on destruction.
class IgnoredSignal {
 public:
  explicit IgnoredSignal(int sig) : sig_(sig) {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    // Fails only for an invalid signal number: a programming error.
    active_ = sigaction(sig_, &ign, &old_) == 0;
  }
  IgnoredSignal(const IgnoredSignal&) = delete;
  IgnoredSignal& operator=(const IgnoredSignal&) = delete;
  ~IgnoredSignal() {
    if (active_) (void)sigaction(sig_, &old_, nullptr);
  }

 private:
  int sig_;
  struct sigaction old_ {};
  bool active_ = false;
};

// The forked child: never returns. Only async-signal-safe calls here.
[[noreturn]] void child(int go_fd, int err_fd, char* const* argv) {
  char go = 0;
  ssize_t n;
  do n = read(go_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) _exit(127);  // the parent did not seize us (it failed or died)
  static sock_filter trace_all{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE};
  static const sock_fprog prog{1, &trace_all};
  // The errno of what failed, negative for the filter, positive for exec.
  int report;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    report = -errno;
  } else {
    execvp(argv[0], argv);
    report = errno;
  }
  // No exit handler of the caller may run in the child: _exit.
  (void)!write(err_fd, &report, sizeof report);
  _exit(127);
}

// The tracer's state over one recording.
class Session {
 public:
  Session(pid_t root, Recording& rec) : root_(root), rec_(rec) { tracees_.insert(root); }

  // Waits for and handles every stop until no tracee is left.
  Status run() {
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, __WALL);
      if (pid < 0) {
        if (errno == EINTR) continue;
        if (errno == ECHILD) return outcome::success();
        return sys::sys_error("waitpid(-1, __WALL)");
      }
      BOOST_OUTCOME_TRY(handle(pid, status));
    }
  }

  // After an error: SIGKILL every tracee known, and reap until none is left
  // (a tracee not yet known is killed when it reports).
  void kill_all() {
    for (pid_t t : tracees_) (void)kill(t, SIGKILL);
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, __WALL);
      if (pid < 0) {
        if (errno == EINTR) continue;
        return;  // ECHILD: nothing left
      }
      if (WIFSTOPPED(status)) (void)kill(pid, SIGKILL);
    }
  }

 private:
  Status handle(pid_t pid, int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      tracees_.erase(pid);
      if (pid == root_) rec_.wait_status = status;
      return outcome::success();
    }
    if (!WIFSTOPPED(status)) return outcome::success();  // WIFCONTINUED: not asked for
    const int sig = WSTOPSIG(status);
    const unsigned event = static_cast<unsigned>(status) >> 16;
    switch (event) {
      case 0:
        // A signal-delivery-stop: deliver the signal.
        return resume(pid, PTRACE_CONT, sig);
      case PTRACE_EVENT_SECCOMP: {
        BOOST_OUTCOME_TRY(count(pid));
        return resume(pid, PTRACE_CONT, 0);
      }
      case PTRACE_EVENT_EXEC: {
        // A thread other than the leader that execs takes the leader's
        // number; its own is gone without an exit report.
        unsigned long former = 0;
        if (ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former) == 0 && static_cast<pid_t>(former) != pid)
          tracees_.erase(static_cast<pid_t>(former));
        if (pid == root_ && !exec_seen_) {
          // The command's first exec: its seccomp stop was not counted (see
          // count()), the exec event says it succeeded.
          exec_seen_ = true;
          ++rec_.counts[SYS_execve];
        }
        return resume(pid, PTRACE_CONT, 0);
      }
      case PTRACE_EVENT_FORK:
      case PTRACE_EVENT_VFORK:
      case PTRACE_EVENT_CLONE: {
        unsigned long child_pid = 0;
        if (ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &child_pid) == 0) tracees_.insert(static_cast<pid_t>(child_pid));
        return resume(pid, PTRACE_CONT, 0);
      }
      case PTRACE_EVENT_STOP:
        // A new tracee's first report, which may come before its parent's
        // fork event.
        tracees_.insert(pid);
        // Seized tracees: a group-stop reports the stopping signal and
        // stays stopped (PTRACE_LISTEN) until SIGCONT; anything else (a new
        // child's first stop, SIGTRAP) continues.
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) return resume(pid, PTRACE_LISTEN, 0);
        return resume(pid, PTRACE_CONT, 0);
      default: return resume(pid, PTRACE_CONT, 0);
    }
  }

  Status count(pid_t pid) {
    __ptrace_syscall_info info{};
    const long got = ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof info), &info);
    if (got < 0) {
      if (errno == ESRCH) return outcome::success();  // killed meanwhile: its exit follows
      return sys::sys_error("ptrace(PTRACE_GET_SYSCALL_INFO)");
    }
    if (info.op != PTRACE_SYSCALL_INFO_SECCOMP)
      return make_error(Errc::io, fmt::format("ptrace(PTRACE_GET_SYSCALL_INFO): op {} at a seccomp stop", info.op));
    const std::uint64_t nr = info.seccomp.nr;
    if (pid == root_ && !exec_seen_) return outcome::success();  // the child's own calls before its exec
    if (info.arch == AUDIT_ARCH_I386) {
      ++rec_.i386;
    } else if (info.arch != AUDIT_ARCH_X86_64) {
      ++rec_.other;
    } else if ((nr & kX32Bit) != 0 && nr < (std::uint64_t{1} << 32)) {
      ++rec_.x32;
    } else if (SyscallSet::in_range(nr)) {
      ++rec_.counts[nr];
    } else {
      ++rec_.beyond[nr];
    }
    return outcome::success();
  }

  // Resumes a stopped tracee; ESRCH means it was killed meanwhile (its exit
  // is reported next), not an error.
  static Status resume(pid_t pid, int request, int sig) {
    if (ptrace(static_cast<__ptrace_request>(request), pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) ==
            0 ||
        errno == ESRCH)
      return outcome::success();
    return sys::sys_error(request == PTRACE_LISTEN ? "ptrace(PTRACE_LISTEN)" : "ptrace(PTRACE_CONT)");
  }

  pid_t root_;
  Recording& rec_;
  bool exec_seen_ = false;
  std::set<pid_t> tracees_;
};

}  // namespace

int Recording::exit_status() const {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

SyscallSet Recording::seen() const {
  SyscallSet s;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (counts[nr] != 0) (void)s.set(nr);
  return s;
}

std::uint64_t Recording::total() const {
  std::uint64_t t = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}) + x32 + i386 + other;
  for (const auto& [nr, n] : beyond) t += n;
  return t;
}

Result<Recording> record(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(Errc::invalid, "record: no command");
  // Everything the child needs is made before the fork.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) != 0) return sys::sys_error("pipe2");
  sys::UniqueFd go_read(go[0]), go_write(go[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return sys::sys_error("pipe2");
  sys::UniqueFd err_read(err[0]), err_write(err[1]);

  const pid_t pid = fork();
  if (pid < 0) return sys::sys_error("fork");
  if (pid == 0) child(go_read.get(), err_write.get(), args.data());
  go_read.reset();
  err_write.reset();
  IgnoredSignal no_int(SIGINT), no_quit(SIGQUIT);

  Recording rec;
  Session session(pid, rec);
  constexpr long kOptions = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                            PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(kOptions)) != 0) {
    Error e = sys::sys_error("ptrace(PTRACE_SEIZE) of the command");
    go_write.reset();  // the child reads EOF and ends without exec
    // Reaps it; its status says nothing more than the error above.
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return e;
  }
  if (write(go_write.get(), "g", 1) != 1) {
    Error e = sys::sys_error("write to the command's start pipe");
    session.kill_all();
    return e;
  }
  go_write.reset();
  if (auto ran = session.run(); !ran) {
    session.kill_all();
    return ran.error();
  }
  int report = 0;
  ssize_t n;
  do n = read(err_read.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error("read of the command's error pipe");
  if (n == sizeof report) {
    if (report < 0) return sys::sys_error("prctl/seccomp in the command's process", -report);
    return sys::sys_error(report == ENOENT ? Errc::not_found : sys::errc_of(report),
                          fmt::format("cannot run {}", argv[0]), report);
  }
  return rec;
}

}  // namespace syscg::enforcer
