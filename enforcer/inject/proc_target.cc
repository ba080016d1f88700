#include "enforcer/inject/proc_target.h"

#include "enforcer/inject/seized.h"
#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"

#include <cerrno>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscg::enforcer::inject {

std::vector<pid_t> ProcTarget::threads() { return threads_of(tgid_); }

Result<ThreadPtr> ProcTarget::seize(pid_t tid) {
  BOOST_OUTCOME_TRY(s, Seized::seize(tid, pending_));
  return ThreadPtr(std::move(s));
}

bool ProcTarget::in_group(pid_t tid) { return in_thread_group(tgid_, tid); }

std::optional<unsigned> ProcTarget::chain_length(pid_t tid) {
  auto st = read_seccomp(tid);
  if (!st) return std::nullopt;
  return st.value().filters;
}

std::set<pid_t> ProcTarget::children() { return children_of(tgid_); }

// Whether another process shares the fd table (clone(CLONE_FILES) without
// CLONE_THREAD): it could take a listener while it sits there. Every task
// is compared, not just leaders: a leader may have unshared its table while
// another of its threads still uses ours. kcmp(KCMP_FILES) answers 0 for a
// shared table; without kcmp (ENOSYS) nothing can be told: assume the
// worst. Other failures (ESRCH: that task exited meanwhile) share nothing.
bool ProcTarget::shares_files() {
  const auto all = all_processes();
  if (!all) return true;
  for (Pid pid : all.value()) {
    if (pid == tgid_) continue;
    for (Pid t : threads_of(pid)) {
      const long r = syscall(SYS_kcmp, tgid_, t, KCMP_FILES, 0, 0);
      if (r == 0 || (r < 0 && errno == ENOSYS)) return true;
    }
  }
  return false;
}

bool ProcTarget::ended() { return pin_ && has_ended(pin_); }

}  // namespace syscg::enforcer::inject
