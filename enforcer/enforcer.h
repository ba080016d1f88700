// The enforcer behind syscgfs's Enforcement seam: members of a group run
// under a seccomp filter compiled from the group's set.
//
//  - attach(): pins the target (process_tracker.h), compiles the group's
//    enforced set (core/io_uring_table.h's enforced(): io_uring goes when
//    the set denies anything io_uring can do) and has the target install it
//    by ptrace injection (tracer.h), before the cgroup.procs write returns.
//    Every member carries at least one filter of ours, whose guard keeps it
//    from creating children the kernel would attribute to someone else
//    (clone(CLONE_PARENT); clone3 is ENOSYS: see bpf/compiler.h).
//  - policy_changed(): stacks a filter on every listed member that can still
//    make a call its group now denies. A member that cannot be given the
//    set (its own filters refuse our injected calls or fill the kernel's
//    budget, another tracer holds it, it holds an io_uring instance the set
//    forbids) is killed and reported: fail closed.
//  - Live loosening: a member's first restriction is a supervised filter:
//    the numbers it denies return USER_NOTIF, and the supervisor
//    (supervisor.h) answers each from the member's group's current policy,
//    so a later allow gives them back. A chain holds one listener and
//    filters are append-only, so later restrictions are ERRNO filters, each
//    denying only what the member could still call unasked; what they deny
//    is lost for good and reported by stricter().
//  - Per member it records what its filters do (Filters below); children
//    inherit their parent's record with its filters.
//  - Membership changes (forks, exits) come from the ProcessTracker, which
//    also keeps each member's identity (a pidfd).
//  - It never stays attached between operations: strace and gdb keep working.
//
// Thread safety: every method may be called from any FUSE worker; ptrace work
// is serialised on the tracer thread.
//
// Lock order: (syscgfs's write lock) -> tracker pause -> decide_mu_ ->
// listener_mu_ -> records_mu_ -> the tracker's own lock; cache_mu_ is a leaf.
// The supervisor takes decide_mu_ shared and may then sync() (the tracker's
// delivery lock), so nobody holds the tracker pause while taking decide_mu_
// exclusively: barrier() comes after a move's pause is released.
#pragma once

#include "enforcer/process_tracker.h"
#include "enforcer/supervisor.h"
#include "enforcer/tracer.h"
#include "enforcer/sys/unique_fd.h"
#include "core/enforcement.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <sys/types.h>

namespace syscg::enforcer {

class Enforcer final : public Enforcement, private ProcessTracker::Observer {
 public:
  explicit Enforcer(std::chrono::milliseconds stop_deadline = std::chrono::seconds(2));
  ~Enforcer() override;
  // Starts the tracer thread and fork tracking; call once, after the daemon
  // has forked into the background (threads do not survive fork).
  void start();

  void set_listener(MembershipListener* listener) override;
  void sync() override;
  std::unique_lock<std::mutex> pause_events() override;
  Result<Process> identify(Pid written, Pid writer_tid) override;
  Result<Pid> thread_group(Pid tid) override;
  bool adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) override;
  std::vector<Loss> stricter(Pid pid, const SyscallSet& allowed) override;
  void barrier() override;
  bool alive(Pid pid) override;
  bool may_subvert(Pid pid) override;
  Status attach(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed,
                Pid writer_tid) override;
  Result<Tightened> policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) override;

 private:
  // What a member's filters do, as far as syscg installed them. The four
  // sets are disjoint and together hold every number.
  struct Filters {
    SyscallSet hard = SyscallSet::all();  // run without asking
    SyscallSet routed;                    // asked of the supervisor: follow the group's policy
    SyscallSet tightened;                 // denied by ERRNO filters stacked later: lost
    SyscallSet unsupervised;              // denied at a restriction that got no listener: lost
    std::string_view why_unsupervised;
    bool guarded = false;  // a filter of ours (with the clone guard) is in
    // Which enforce step wrote the record, and (for a child's copy) the
    // process it was copied from. While a step is in flight its target's
    // record claims nothing new; settle raises the copies made meanwhile
    // only along a chain of parents known to have the filter.
    std::uint64_t step = 0;
    Pid from = 0;
  };

  // Has `pid` enforce `allowed` (attach: also when nothing is to be
  // tightened, for no_new_privs and the clone guard, and to prove it can be
  // reached). A tightening that fails kills the member (fail_closed).
  Result<std::vector<pid_t>> enforce(Pid pid, GroupId group, const SyscallSet& allowed, std::optional<pid_t> self,
                                     bool attach);
  // The record once `block` is denied: routed when a listener went in
  // (why == none), else lost for `why`; `errno_only`: a later restriction.
  static Filters after(const Filters& before, const SyscallSet& block, NoListener why, bool errno_only);
  static Filters copy_of(const Filters& record, Pid from);
  // Reports member `pid` as killed and kills it (by its pidfd); false when
  // it could not be killed safely (not pinned: the number may name another
  // process).
  bool fail_closed(Pid pid, GroupId group, std::string_view why);
  bool decide(pid_t tid, unsigned nr);
  std::optional<bool> ask(Pid tgid, unsigned nr);
  // A re-adopted member's record, from the filters the kernel holds for it.
  std::optional<Filters> read_filters(Pid pid);
  // ProcessTracker::Observer
  bool forked(Pid parent, Pid child) override;
  void ended(Pid tgid) override;
  bool rescanned(Pid parent, Pid child) override;
  void forget(Pid pid);
  Result<std::shared_ptr<const Program>> program_for(const SyscallSet& allowed, const SyscallSet& notify = {});

  pid_t self_;
  std::chrono::milliseconds test_hold_{0};  // SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS: tests only
  std::mutex listener_mu_;
  MembershipListener* listener_ = nullptr;
  std::mutex cache_mu_;
  std::map<std::pair<SyscallSet, SyscallSet>, std::shared_ptr<const Program>> programs_;
  std::mutex records_mu_;
  std::map<Pid, Filters> filters_;  // written on the tracer thread
  // Children that did not get their parent's new filter, with the record
  // they do have, for a fork event that arrives after the parent settled.
  std::map<Pid, Filters> unfiltered_;  // guarded by records_mu_
  std::uint64_t steps_ = 0;            // guarded by records_mu_
  std::vector<Pid> readback_;          // re-adopted, filters not read yet; guarded by records_mu_
  std::atomic<int> readbacks_pending_{0};
  // barrier() waits for the decisions in flight (the supervisor holds it
  // shared for decide + answer), so none answers from an old policy after
  // a change is acknowledged.
  std::shared_mutex decide_mu_;
  sys::StderrLog log_{"syscgfs"};  // the tracer's; until the composition root passes a sys::Log&
  Supervisor supervisor_;  // before tracer_: settled injections hand it listeners
  Tracer tracer_;
  ProcessTracker tracker_;  // last: its events thread calls into this object
};

}  // namespace syscg::enforcer
