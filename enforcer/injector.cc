// The injector's entry points: the real target (ptrace, /proc) handed to
// the strategy. The parts live in enforcer/inject/.
#include "enforcer/injector.h"

#include "enforcer/inject/proc_target.h"
#include "enforcer/inject/seized.h"

namespace syscg::enforcer {

Result<Injection> inject_process(pid_t tgid, const Program& program, const Program* supervised,
                                 std::optional<pid_t> self_writer, Deadline deadline,
                                 const std::function<void(const Status&)>& after_interrupt, bool defer,
                                 const sys::UniqueFd& pin, inject::Pending& pending, MemorySharing& sharing,
                                 bool probe_io_uring) {
  inject::ProcTarget target(tgid, pin, pending, sharing);
  const inject::Request request{program, supervised, self_writer, deadline, defer, probe_io_uring};
  return inject::inject_process(target, pending, request, after_interrupt);
}

Result<std::vector<Program>> read_filters(pid_t tid, Deadline deadline, inject::Pending& pending) {
  BOOST_OUTCOME_TRY(seized, inject::Seized::seize(tid, pending));
  BOOST_OUTCOME_TRY(seized->interrupt());
  BOOST_OUTCOME_TRY(seized->wait_stop(deadline));
  return seized->filters();
}

}  // namespace syscg::enforcer
