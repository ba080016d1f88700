#include "enforcer/readback.h"

#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/interpreter.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>

namespace syscg::enforcer {

bool has_clone_guard(const std::vector<bpf::Program>& programs) {
  auto refuses = [&](unsigned nr, std::uint64_t a0, std::uint32_t want) {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = AUDIT_ARCH_X86_64;
    d.args[0] = a0;
    return std::any_of(programs.begin(), programs.end(), [&](const bpf::Program& p) {
      auto r = bpf::run(p, d);
      return r && r.value() == want;
    });
  };
  return refuses(bpf::kCloneNr, bpf::kCloneParent, SECCOMP_RET_ERRNO | EPERM) &&
         refuses(bpf::kClone3Nr, 0, SECCOMP_RET_ERRNO | ENOSYS);
}

std::optional<Filters> record_from(const std::vector<bpf::Program>& programs, const SyscallSet& handed) {
  // The kernel runs every filter and keeps the most restrictive action
  // (compared as signed: KILL_PROCESS < KILL_THREAD < TRAP < ERRNO <
  // USER_NOTIF < TRACE < LOG < ALLOW). Arguments 0: the number's verdict.
  Filters f{SyscallSet::none(), {}, {}, {}, "daemon-restarted", {}};  // errnos unknown: a changed one re-filters
  f.guarded = has_clone_guard(programs);
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = AUDIT_ARCH_X86_64;
    std::int32_t strictest = static_cast<std::int32_t>(SECCOMP_RET_ALLOW);
    bool by_args = false;  // some path looks at arguments: other arguments may pass
    for (const auto& p : programs) {
      bpf::Trace trace;
      auto r = bpf::run(p, d, &trace);
      if (!r) return std::nullopt;  // a filter our interpreter cannot run
      by_args |= std::any_of(trace.loads.begin(), trace.loads.end(),
                             [](std::uint32_t off) { return off >= offsetof(seccomp_data, args); });
      strictest = std::min(strictest, static_cast<std::int32_t>(r.value() & SECCOMP_RET_ACTION_FULL));
    }
    const auto action = static_cast<std::uint32_t>(strictest);
    // What a listener of the previous daemon answered now fails with
    // ENOSYS, unless that daemon handed its listener over (`handed`: what
    // it routed); anything else that is not an allow is a filter's for good.
    // Only one filter of a chain can have a listener (the kernel refuses a
    // second: EBUSY), so a routed number the member's own filter took over
    // fails with ENOSYS (no listener on it): counting it routed overstates
    // what it can call, never what it can do unasked.
    // Where arguments decide, it counts as callable: a later deny then
    // stacks a filter for it (denying too much is safe, too little not).
    // clone3 answers ENOSYS by the guard of every filter of ours (glibc
    // falls back to clone): the group's verdict, not a loss.
    const bool guard = nr == bpf::kClone3Nr && f.guarded;
    if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG || by_args || guard)
      (void)f.hard.set(nr);
    else if (action == SECCOMP_RET_USER_NOTIF && handed.test(nr))
      (void)f.routed.set(nr);
    else if (action == SECCOMP_RET_USER_NOTIF)
      (void)f.unsupervised.set(nr);
    else
      (void)f.tightened.set(nr);
  }
  return f;
}

}  // namespace syscg::enforcer
