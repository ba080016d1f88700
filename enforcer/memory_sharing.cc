#include "enforcer/memory_sharing.h"

#include "enforcer/procfs.h"

#include <cerrno>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace syscg::enforcer {
namespace {

enum class Same { yes, no, unknown };

Same same_memory(Pid a, Pid b) {
  const long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);
  if (r == 0) return Same::yes;
  if (r > 0) return Same::no;
  return errno == ESRCH || errno == EPERM ? Same::no : Same::unknown;  // see the header
}

// Whether process `p` (or, past its leader, any of its threads) shares
// `tgid`'s memory. A leader that has exited holds no memory any more while
// its other threads still do: `leader_gone` says whether to ask them.
bool shares(Pid tgid, Pid p, bool leader_gone) {
  const Same s = same_memory(tgid, p);
  if (s != Same::no) return true;
  if (!leader_gone) return false;
  for (Pid t : threads_of(p))
    if (t != p && same_memory(tgid, t) != Same::no) return true;
  return false;
}

// A child of ours that has exited and is not reaped yet: a task without a
// memory, to tell leaders that exited (kcmp compares their memory, none,
// equal to its) from the rest in one call each. Reaped on destruction.
class Exited {
 public:
  Exited() {
    pid_ = vfork();  // the child only exits: nothing of ours runs twice
    if (pid_ == 0) _exit(0);
    if (pid_ > 0) {
      siginfo_t info{};
      // Exited, but not reaped: WNOWAIT.
      while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
      }
    }
  }
  ~Exited() {
    if (pid_ > 0)
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
  }
  Exited(const Exited&) = delete;
  Exited& operator=(const Exited&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace

Status MemorySharing::start() {
  BOOST_OUTCOME_TRY(events, ProcEvents::start(*this, log_));
  events_ = std::move(events);
  return outcome::success();
}

bool MemorySharing::shared(Pid tgid) {
  std::optional<std::vector<Pid>> bounded;
  if (events_) {
    events_->drain();  // every fork, exec and exit so far
    auto lock = events_->pause();
    bounded = log_book_.bound(tgid);
  }
  if (bounded) {
    // Few: born after the target's exec. Each one's threads are asked too
    // (its leader may have exited).
    for (Pid p : *bounded)
      if (shares(tgid, p, true)) return true;
    return false;
  }
  const auto all = all_processes();
  if (!all) return true;
  const Exited none;
  if (none.pid() <= 0) return true;
  for (Pid p : all.value()) {
    if (p == tgid) continue;
    if (shares(tgid, p, same_memory(p, none.pid()) == Same::yes)) return true;
  }
  return false;
}

}  // namespace syscg::enforcer
