#include "enforcer/inject/proc_target.h"

#include "enforcer/inject/seized.h"
#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"

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

bool ProcTarget::ended() { return pin_ && has_ended(pin_); }

}  // namespace syscg::enforcer::inject
