// What one enforce step does to a member, decided from its filter record
// alone (filters.h). Pure: the Enforcer adds the system calls (the io_uring
// look, compiling, the injection).
//
// Contract:
//  - plan_step(): `block` is what the member can still call unasked
//    (`before.hard`) but `allowed` (the enforced set) denies; clone3 is
//    left out when a filter of ours is in (its guard makes it ENOSYS).
//    Nothing new to deny: a member is left alone (nothing) unless it must
//    be asked about io_uring; a process joining (attach) gets no_new_privs,
//    plus the clone guard if it has no filter of ours yet (guard). Else a
//    filter denying `block` (filter), supervised (a listener asked for)
//    when no listener of ours is in the chain yet (before.routed empty).
//    A filter also when only `reerr` is not empty (a later deny changed the
//    errno of numbers an ERRNO filter denies: clone3's stays ENOSYS).
//  - io_uring_check: the set keeps members from io_uring (no_io_uring) and
//    the member could still reach io_uring until now: its rings must be
//    looked for.
//  - settled_record(): the record once the step's filter is in: the block
//    is routed when a listener was asked for and the supervisor holds it,
//    lost as `why` when it was asked for and none came, tightened when the
//    filter was an ERRNO one. `guarded` once any filter of ours is in.
#pragma once

#include "core/syscall_set.h"
#include "enforcer/filters.h"

#include <cstdint>
#include <string_view>

namespace syscg::enforcer {

struct StepPlan {
  enum class Install : std::uint8_t { nothing, no_new_privs, guard, filter };
  Install install = Install::nothing;
  SyscallSet block;
  // Numbers an ERRNO filter of the member's already denies, with another
  // errno than the group's now: the new filter denies them again, and its
  // errno wins (the newest of equal ERRNO actions does: seccomp_run_filters).
  SyscallSet reerr;
  bool supervised = false;
  bool io_uring_check = false;

  // A filter of ours goes in (at least the clone guard); only then is the
  // target's record made provisional (FilterBook::begin).
  bool filtered() const { return install == Install::guard || install == Install::filter; }
  // What the step's filter denies.
  SyscallSet denied() const { return block | reerr; }
};

// `errnos`: what the group's denied numbers return.
StepPlan plan_step(const Filters& before, const SyscallSet& allowed, bool attach, bool no_io_uring,
                   const DenyErrnos& errnos = {});

// `listener_held`: the supervisor holds the step's listener; `why`: the
// token when it was asked for and does not.
Filters settled_record(const Filters& before, const StepPlan& plan, bool listener_held, std::string_view why,
                       const DenyErrnos& errnos = {});

}  // namespace syscg::enforcer
