// The enforcer behind syscgfs's Enforcement seam: members of a group run
// under a seccomp filter compiled from the group's set.
//
//  - attach(): compiles the group's set (bpf::compile) and has the target
//    install it by ptrace injection (tracer.h), before the cgroup.procs write
//    returns; a set that allows everything needs no filter.
//  - policy_changed(): stacks a filter on every listed member that can still
//    make a call its group now denies.
//  - Live loosening: a member's first restriction is a supervised filter:
//    the numbers it denies return USER_NOTIF, and the supervisor
//    (supervisor.h) answers each from the member's group's current policy,
//    so a later allow gives them back. A chain holds one listener and
//    filters are append-only, so later restrictions are ERRNO filters, each
//    denying only what the member could still call unasked; what they deny
//    is lost for good and reported by stricter().
//  - Per member it records what its filters do (Filters below); children
//    inherit their parent's record with its filters.
//  - Fork and exit tracking through the process-events connector
//    (proc_events.h): children of members are reported to the listener.
//  - It never stays attached between operations: strace and gdb keep working.
//  - It holds a pidfd for every process it has seen join (attach, fork), so
//    alive() is never fooled by a recycled pid.
//
// Thread safety: every method may be called from any FUSE worker; ptrace work
// is serialised on the tracer thread.
#pragma once

#include "enforcer/proc_events.h"
#include "enforcer/supervisor.h"
#include "enforcer/tracer.h"
#include "enforcer/unique_fd.h"
#include "fs/enforcement.h"

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <sys/types.h>

namespace syscg::enforcer {

class Enforcer final : public fs::Enforcement, private ProcEventHandler {
 public:
  explicit Enforcer(std::chrono::milliseconds stop_deadline = std::chrono::seconds(2));
  ~Enforcer() override;
  // Starts the tracer thread and fork tracking; call once, after the daemon
  // has forked into the background (threads do not survive fork).
  void start();

  void set_listener(fs::MembershipListener* listener) override;
  void sync() override;
  Result<fs::Process> identify(Pid written, Pid writer_tid) override;
  Result<Pid> thread_group(Pid tid) override;
  bool adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) override;
  std::vector<fs::Loss> stricter(Pid pid, const SyscallSet& allowed) override;
  void barrier() override;
  bool alive(Pid pid) override;
  Status attach(Pid pid, GroupId group, const SyscallSet& allowed, Pid writer_tid) override;
  Result<std::vector<fs::Fork>> policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) override;

 private:
  // What a member's filters do, as far as syscg installed them. The four
  // sets are disjoint and together hold every number.
  struct Filters {
    SyscallSet hard = SyscallSet::all();  // run without asking
    SyscallSet routed;                    // asked of the supervisor: follow the group's policy
    SyscallSet tightened;                 // denied by ERRNO filters stacked later: lost
    SyscallSet unsupervised;              // denied at a restriction that got no listener: lost
    std::string_view why_unsupervised;
    // Which enforce step wrote the record (children copy it): settle fixes
    // up only the copies of its own expected record.
    std::uint64_t step = 0;
  };

  // Has `pid` enforce `allowed` (attach: also when nothing is to be
  // tightened, for no_new_privs and to prove it can be reached).
  Result<std::vector<pid_t>> enforce(Pid pid, const SyscallSet& allowed, std::optional<pid_t> self, bool attach);
  // The record once `block` is denied: routed when a listener went in
  // (why == none), else lost for `why`; `errno_only`: a later restriction.
  static Filters after(const Filters& before, const SyscallSet& block, NoListener why, bool errno_only);
  bool decide(pid_t tid, unsigned nr);
  // A re-adopted member's record, from the filters the kernel holds for it.
  static std::optional<Filters> read_filters(Pid pid);
  void forked(Pid parent, Pid child) override;
  void exited(Pid pid) override;
  void lost() override;
  void rescan();
  void track(Pid pid);  // opens and keeps a pidfd for pid
  void forget(Pid pid);
  Result<std::shared_ptr<const Program>> program_for(const SyscallSet& allowed, const SyscallSet& notify = {});

  pid_t self_;
  std::mutex listener_mu_;
  fs::MembershipListener* listener_ = nullptr;
  std::mutex cache_mu_;
  std::map<std::pair<SyscallSet, SyscallSet>, std::shared_ptr<const Program>> programs_;
  std::atomic<bool> lost_{false};
  std::mutex pidfds_mu_;
  std::map<Pid, UniqueFd> pidfds_;
  std::map<Pid, Filters> filters_;  // guarded by pidfds_mu_; written on the tracer thread
  // Children that did not get their parent's new filter, with the record
  // they do have, for a fork event that arrives after the parent settled.
  std::map<Pid, Filters> unfiltered_;  // guarded by pidfds_mu_
  std::uint64_t steps_ = 0;            // guarded by pidfds_mu_
  std::vector<Pid> readback_;          // re-adopted, filters not read yet; guarded by pidfds_mu_
  std::atomic<int> readbacks_pending_{0};
  // barrier() waits for the decisions in flight (the supervisor holds it
  // shared for decide + answer), so none answers from an old policy after
  // a change is acknowledged.
  std::shared_mutex decide_mu_;
  Supervisor supervisor_;  // before tracer_: settled injections hand it listeners
  Tracer tracer_;
  std::unique_ptr<ProcEvents> events_;  // last: its thread calls into this object
};

}  // namespace syscg::enforcer
