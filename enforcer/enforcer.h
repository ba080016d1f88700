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
//    (supervisor.h, deciding through decider.h) answers each from the
//    member's group's current policy, so a later allow gives them back. A
//    chain holds one listener and filters are append-only, so later
//    restrictions are ERRNO filters, each denying only what the member
//    could still call unasked; what they deny is lost for good and reported
//    by stricter().
//  - Per member it records what its filters do (filters.h: the record and
//    its algebra, the step lineage); children inherit their parent's record
//    with its filters. Re-adopted members' records are read back from the
//    kernel (readback.h). Programs are compiled once (program_cache.h).
//  - Membership changes (forks, exits) come from the ProcessTracker, which
//    also keeps each member's identity (a pidfd); /proc lookups are in
//    identity.h; reports to syscgfs go through listener_slot.h.
//  - It never stays attached between operations: strace and gdb keep working.
//  - It never prints: every line goes to the sys::Log it is given.
//
// Thread safety: every method may be called from any thread, concurrently:
// syscgfs serialises its mutations (attach, policy_changed, adopt, barrier
// under its write lock) but calls sync, identify, thread_group, alive,
// stricter and may_subvert from readers and before taking that lock. ptrace
// work is serialised on the tracer thread.
//
// Lock order (a lock is only ever taken after those to its left):
//   syscgfs's write lock -> decide_mu_ -> the tracker's delivery lock
//   (pause_events(), ProcEvents' read_mu_) -> { ListenerSlot's lock ->
//   syscgfs's own locks } | { records_mu_ -> the tracker's lock (mu_) }.
//   ListenerSlot's lock and records_mu_ are never held together.
//   Leaves: ProgramCache's lock, the Supervisor's mu_, the Tracer's mu_,
//   the log sink's lock (a line may be logged with any of the above held).
// decide_mu_ comes before the delivery lock because the supervisor holds it
// shared while decide() may sync(): nobody may hold the tracker pause while
// taking decide_mu_ (syscgfs calls barrier() after a move's pause is
// released). A FUSE worker holding the pause waits on the tracer thread
// (inject), so the tracer thread never takes the delivery lock (settle
// takes records_mu_, the tracker's lock, the Supervisor's mu_ and the
// listener's lock, none of which waits for the pause).
#pragma once

#include "core/enforcement.h"
#include "core/mutex.h"
#include "enforcer/decider.h"
#include "enforcer/filters.h"
#include "enforcer/listener_slot.h"
#include "enforcer/process_tracker.h"
#include "enforcer/program_cache.h"
#include "enforcer/supervisor.h"
#include "enforcer/sys/log.h"
#include "enforcer/tracer.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace syscg::enforcer {

class Enforcer final : public Enforcement, private ProcessTracker::Observer {
 public:
  // `log` receives every line (it must outlive the Enforcer);
  // `stop_deadline`: how long an injection waits for its target to stop.
  // Reads the test hook SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS (test_hold.h);
  // a malformed value is logged and ignored.
  explicit Enforcer(sys::Log& log, std::chrono::milliseconds stop_deadline = std::chrono::seconds(2));
  ~Enforcer() override;
  Enforcer(const Enforcer&) = delete;
  Enforcer& operator=(const Enforcer&) = delete;
  // Starts the tracer thread and fork tracking; call once, after the daemon
  // has forked into the background (threads do not survive fork). Failures
  // are logged: without the supervisor routed calls fail with ENOSYS,
  // without process events fork tracking is degraded.
  void start();
  // Returns once the work start() queued (re-adopted members' filter
  // read-backs) is done; call after start(), before saying the daemon is ready.
  void wait_started();
  // More of what the previous daemon routed, for processes adopted after
  // start() (a restart's second snapshot: fs/handoff.h).
  void add_handed_routed(const std::map<Pid, SyscallSet>& routed) SYSCG_EXCLUDES(records_mu_);
  // After start(): the handed listeners' calls are answered from now on.
  void serve_handed() SYSCG_EXCLUDES(records_mu_);
  // After start(), when members were handed over: their children forked
  // while no daemon watched (during the restart) join their groups
  // (ProcessTracker::rescan).
  void rescan_children();

  // A controlled restart (fs/handover.h), the giving side: the decisions in
  // flight are answered, then the supervisor stops reading its listeners
  // (routed calls wait in the kernel) and they are copied for the
  // successor, with what each tracked process routes. resume() serves them
  // again when the successor failed. Call with every mutation stopped.
  struct Handed {
    std::vector<Supervisor::Held> listeners;
    std::map<Pid, SyscallSet> routed;  // per process: the numbers its listener answers
  };
  Result<Handed> hand_over() SYSCG_EXCLUDES(records_mu_);
  // Every tracked process's routed numbers now (non-empty ones).
  std::map<Pid, SyscallSet> routed_now() SYSCG_EXCLUDES(records_mu_);
  Status resume();
  // The taking side, before start(): the listeners go to the supervisor at
  // serve_handed() (a restart's commit point), and a process adopted later
  // with an entry in `routed` keeps those numbers routed (readback.h)
  // instead of "daemon-restarted".
  void take_over(std::vector<Supervisor::Held> listeners, std::map<Pid, SyscallSet> routed) SYSCG_EXCLUDES(records_mu_);
  void set_listener(MembershipListener* listener) override;
  void sync() override;
  // The tracker's delivery lock: a std::mutex, as the seam says.
  std::unique_lock<std::mutex> pause_events() override;
  Result<Process> identify(Pid written, Pid writer_tid) override;
  Result<Pid> thread_group(Pid tid) override;
  bool adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) override SYSCG_EXCLUDES(records_mu_);
  std::vector<Loss> stricter(Pid pid, const SyscallSet& allowed) override SYSCG_EXCLUDES(records_mu_);
  void barrier() override SYSCG_EXCLUDES(decide_mu_);
  bool alive(Pid pid) override;
  bool may_subvert(Pid pid) override;
  Status attach(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed, const DenyErrnos& errnos,
                Pid writer_tid) override SYSCG_EXCLUDES(records_mu_);
  Result<Tightened> policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) override
      SYSCG_EXCLUDES(records_mu_);

 private:
  // Has `pid` enforce `allowed` (attach: also when nothing is to be
  // tightened, for no_new_privs and the clone guard, and to prove it can be
  // reached). A tightening that fails kills the member (fail_closed).
  Result<std::vector<pid_t>> enforce(Pid pid, GroupId group, const SyscallSet& allowed, const DenyErrnos& errnos,
                                     std::optional<pid_t> self, bool attach) SYSCG_EXCLUDES(records_mu_);
  // Reports member `pid` as killed and kills it (by its pidfd); false when
  // it could not be killed safely (not pinned: the number may name another
  // process).
  bool fail_closed(Pid pid, GroupId group, std::string_view why);
  // ProcessTracker::Observer
  bool forked(Pid parent, Pid child) override SYSCG_EXCLUDES(records_mu_);
  void ended(Pid tgid) override SYSCG_EXCLUDES(records_mu_);
  bool rescanned(Pid parent, Pid child) override SYSCG_EXCLUDES(records_mu_);
  void forget(Pid pid) SYSCG_EXCLUDES(records_mu_);

  sys::Log& log_;
  pid_t self_;
  std::chrono::milliseconds test_hold_{0};  // SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS: tests only
  ListenerSlot listener_;
  ProgramCache programs_;
  // barrier() waits for the decisions in flight (the supervisor holds it
  // shared for decide + answer), so none answers from an old policy after
  // a change is acknowledged.
  SharedMutex decide_mu_;
  Mutex records_mu_ SYSCG_ACQUIRED_AFTER(decide_mu_);
  FilterBook records_ SYSCG_GUARDED_BY(records_mu_);  // written on the tracer thread
  // A re-adopted member's filters read back on the tracer thread, waiting
  // until `deadline` for it to stop.
  void post_readback(Pid pid, std::chrono::steady_clock::time_point deadline);
  std::vector<Pid> readback_ SYSCG_GUARDED_BY(records_mu_);  // re-adopted, filters not read yet
  bool started_ SYSCG_GUARDED_BY(records_mu_) = false;       // later adoptions read back at once
  std::atomic<int> readbacks_pending_{0};
  std::map<Pid, SyscallSet> handed_routed_ SYSCG_GUARDED_BY(records_mu_);  // take_over(): routed before the restart
  std::vector<Supervisor::Held> handed_listeners_ SYSCG_GUARDED_BY(records_mu_);  // for serve_handed()
  Supervisor supervisor_;  // before tracer_: settled injections hand it listeners
  MemorySharing memory_;   // before tracer_, which asks it (started by start())
  Tracer tracer_;
  ProcessTracker tracker_;  // its events thread calls into this object (started by start())
  Decider decider_;         // the supervisor's decisions (its thread starts in start())
};

}  // namespace syscg::enforcer
