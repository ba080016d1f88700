#include "enforcer/inject/proc_target.h"

#include "enforcer/inject/seized.h"
#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"

#include <string>
#include <sys/stat.h>

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

bool ProcTarget::in_our_user_namespace() {
  // Its credentials' namespace: an unprivileged process in ours also has its
  // memory's there (mm->user_ns: the namespace it exec'd in; coming back to
  // ours from a child namespace takes CAP_SYS_ADMIN in ours). Unreadable
  // counts as foreign (fail closed: no listener).
  struct stat ours {
  }, theirs{};
  const std::string path = "/proc/" + std::to_string(tgid_) + "/ns/user";
  return ::stat("/proc/self/ns/user", &ours) == 0 && ::stat(path.c_str(), &theirs) == 0 &&
         ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

bool ProcTarget::ended() { return pin_ && has_ended(pin_); }

}  // namespace syscg::enforcer::inject
