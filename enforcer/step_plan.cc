#include "enforcer/step_plan.h"

#include "core/io_uring_table.h"
#include "enforcer/bpf/compiler.h"

namespace syscg::enforcer {

StepPlan plan_step(const Filters& before, const SyscallSet& allowed, bool attach, bool no_io_uring) {
  StepPlan plan;
  // Only a process that could use io_uring until now can hold a ring of
  // its own (one its filters kept from io_uring was looked at then).
  plan.io_uring_check = no_io_uring && !(io_uring_calls() & before.callable()).empty();
  plan.block = before.hard & ~allowed;
  // clone3 is ENOSYS under every filter of ours already.
  if (before.guarded) (void)plan.block.reset(bpf::kClone3Nr);
  if (plan.block.empty()) {
    if (!attach && !plan.io_uring_check)
      plan.install = StepPlan::Install::nothing;
    else
      plan.install = before.guarded ? StepPlan::Install::no_new_privs : StepPlan::Install::guard;
    return plan;
  }
  plan.install = StepPlan::Install::filter;
  // A listener of ours already in the chain: a second is impossible.
  plan.supervised = before.routed.empty();
  return plan;
}

Filters settled_record(const Filters& before, const StepPlan& plan, bool listener_held, std::string_view why) {
  const Denial how = !plan.supervised ? Denial::tightened : listener_held ? Denial::routed : Denial::unsupervised;
  Filters settled = after(before, plan.block, how, why);
  settled.guarded = before.guarded || plan.filtered();
  return settled;
}

}  // namespace syscg::enforcer
