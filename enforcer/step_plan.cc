#include "enforcer/step_plan.h"

#include "core/io_uring_table.h"
#include "enforcer/bpf/compiler.h"

namespace syscg::enforcer {

StepPlan plan_step(const Filters& before, const SyscallSet& allowed, bool attach, bool no_io_uring,
                   const DenyErrnos& errnos) {
  StepPlan plan;
  // Only a process that could use io_uring until now can hold a ring of
  // its own (one its filters kept from io_uring was looked at then).
  plan.io_uring_check = no_io_uring && !(io_uring_calls() & before.callable()).empty();
  plan.block = before.hard & ~allowed;
  // clone3 is ENOSYS under every filter of ours already.
  if (before.guarded) (void)plan.block.reset(bpf::kClone3Nr);
  for (unsigned nr : (before.tightened | before.unsupervised) & ~allowed)
    if (nr != bpf::kClone3Nr && before.errnos.of(nr) != errnos.of(nr)) (void)plan.reerr.set(nr);
  if (plan.block.empty() && plan.reerr.empty()) {
    if (!attach && !plan.io_uring_check)
      plan.install = StepPlan::Install::nothing;
    else
      plan.install = before.guarded ? StepPlan::Install::no_new_privs : StepPlan::Install::guard;
    return plan;
  }
  plan.install = StepPlan::Install::filter;
  // A listener of ours already in the chain: a second is impossible. A
  // filter for errnos alone asks for none.
  plan.supervised = before.routed.empty() && !plan.block.empty();
  return plan;
}

Filters settled_record(const Filters& before, const StepPlan& plan, bool listener_held, std::string_view why,
                       const DenyErrnos& errnos) {
  const Denial how = !plan.supervised ? Denial::tightened : listener_held ? Denial::routed : Denial::unsupervised;
  Filters settled = after(before, plan.block, how, why, errnos);
  settled.errnos.assign_from(errnos, plan.reerr);
  settled.guarded = before.guarded || plan.filtered();
  return settled;
}

}  // namespace syscg::enforcer
