#include "enforcer/enforcer.h"

#include "core/io_uring_table.h"
#include "enforcer/identity.h"
#include "enforcer/procfs.h"
#include "enforcer/readback.h"
#include "enforcer/step_plan.h"
#include "enforcer/sys/error.h"
#include "enforcer/test_hold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>
#include <sys/prctl.h>
#include <unistd.h>

namespace syscg::enforcer {

namespace {

// The token stricter() reports for numbers a restriction denied without a
// listener (the README's list).
std::string_view reason(NoListener why) {
  switch (why) {
    case NoListener::own_listener: return "own-listener";
    case NoListener::threads_diverged: return "threads-diverged";
    case NoListener::not_stopped: return "not-stopped";
    case NoListener::no_thread: return "no-thread";
    case NoListener::shared_memory: return "shared-memory";
    case NoListener::unsupported: return "kernel-too-old";
    case NoListener::refused: return "daemon-restarted";
    case NoListener::user_namespace: return "user-namespace";
    case NoListener::lost: return "listener-lost";
    case NoListener::none: break;
  }
  return "tightened";
}

// How long start() waits, in all, for adopted members to stop for their
// filters to be read back.
constexpr std::chrono::seconds kReadbackBudget{1};

std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

Enforcer::Enforcer(sys::Log& log, std::chrono::milliseconds stop_deadline)
    : log_(log),
      self_(getpid()),
      supervisor_(
          log, [this](pid_t tid, unsigned nr) { return decider_.decide(tid, nr); }, decide_mu_),
      memory_(log),
      tracer_(log, memory_, stop_deadline),
      tracker_(log),
      decider_(tracker_, listener_, [this](Pid tgid) {
        tracker_.forget(tgid);
        ended(tgid);
      }) {
  if (const char* ms = std::getenv(kTestHoldVariable.data())) {
    if (auto hold = parse_test_hold(ms))
      test_hold_ = hold.value();
    else
      log_.error("{}; the hook is off", hold.error().message);
  }
}

void Enforcer::start() {
  self_ = getpid();  // the daemonized process
  // Non-dumpable: only CAP_SYS_PTRACE can then read the daemon's memory or
  // take its fds (the supervisor's listeners) with pidfd_getfd. Never
  // restored.
  if (prctl(PR_SET_DUMPABLE, 0) != 0) log_.error("{}", sys::sys_error("prctl(PR_SET_DUMPABLE, 0)").message);
  if (auto s = supervisor_.start(); !s)
    log_.error("the supervisor did not start ({}); routed calls fail with ENOSYS", s.error().message);
  if (auto s = memory_.start(); !s)
    log_.warning("process events unavailable for the memory check ({}); first restrictions compare every process",
                 s.error().message);
  tracer_.start();
  std::vector<Pid> adopted;
  {
    MutexLock lock(records_mu_);
    adopted.swap(readback_);
    readbacks_pending_ = static_cast<int>(adopted.size());
    started_ = true;
  }

  // Before any FUSE request can queue an injection: jobs run in order. One
  // deadline for them all: members that cannot stop (a vfork parent) must
  // not hold the start (and a restart's freeze) one second each (found by an
  // attacker review); a member not read back keeps its conservative record.
  const auto deadline = std::chrono::steady_clock::now() + kReadbackBudget;
  for (Pid pid : adopted) post_readback(pid, deadline);
  if (auto events = tracker_.start(*this); !events) {
    // Without the connector, members' children are still filtered (seccomp
    // is inherited) but are not listed, and tightening reaches them only
    // through their parents' children lists.
    log_.warning("process events unavailable ({}); fork tracking is degraded", events.error().message);
  }
}

void Enforcer::rescan_children() { tracker_.rescan(); }

void Enforcer::serve_handed() {
  std::vector<Supervisor::Held> handed;
  {
    MutexLock lock(records_mu_);
    handed.swap(handed_listeners_);
  }
  // The previous daemon's listeners: the calls waiting in them are answered
  // from now on, from the restored policy.
  for (auto& h : handed)
    if (auto added = supervisor_.add(std::move(h.fd), h.owner); !added)
      log_.error("{}; calls routed by {} fail with ENOSYS", added.error().message, h.owner);
}

void Enforcer::wait_started() {
  // Jobs run in order: an empty job done means every read-back before it is.
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  tracer_.post([done] { done->set_value(); });
  future.wait();
}

Enforcer::~Enforcer() {
  // Every part is alive while the threads stop, in an order where no
  // thread still running calls into one that has stopped: the tracer first
  // (its queued jobs settle through the tracker and hand listeners to the
  // supervisor), then the supervisor (its decisions sync the tracker), then
  // the tracker's events thread.
  tracer_.stop();
  supervisor_.stop();
  tracker_.stop();
}

void Enforcer::set_listener(MembershipListener* listener) { listener_.set(listener); }

void Enforcer::forget(Pid pid) {
  tracker_.forget(pid);
  MutexLock lock(records_mu_);
  records_.erase(pid);
}

bool Enforcer::forked(Pid parent, Pid child) {
  // Membership is the listener's to decide (the hierarchy), not ours.
  if (!listener_.forked(parent, child)) return false;
  // It has what its parent had when it forked: the parent's record, unless
  // the parent was tightened after the fork (settle left the record then).
  MutexLock lock(records_mu_);
  (void)records_.inherit(parent, child);
  return true;
}

bool Enforcer::rescanned(Pid parent, Pid child) {
  {
    MutexLock lock(records_mu_);
    if (records_.contains(child)) return false;  // known (and pinned, or gone)
  }
  return forked(parent, child);
}

void Enforcer::ended(Pid pid) {
  {
    MutexLock lock(records_mu_);
    records_.erase(pid);
  }
  listener_.exited(pid);
}

void Enforcer::sync() { tracker_.sync(); }

std::unique_lock<std::mutex> Enforcer::pause_events() { return tracker_.pause(); }

Result<Process> Enforcer::identify(Pid written, Pid writer_tid) {
  return enforcer::identify(self_, written, writer_tid);
}

Result<Pid> Enforcer::thread_group(Pid tid) { return enforcer::thread_group(tid); }

bool Enforcer::adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) {
  auto st = read_status(pid);
  if (!st || st.value().tgid != pid || st.value().start_time != start_time || st.value().state == 'Z') return false;
  if (!tracker_.pin(pid, start_time)) return false;
  // Its filters enforce at least `allowed` (the previous daemon saw to
  // that); start() has the tracer read what they really do, first thing.
  MutexLock lock(records_mu_);
  // Until the read-back: what the previous daemon routed (handed over) is
  // routed, the rest of the set runs unasked, everything else is lost.
  SyscallSet routed;
  if (auto it = handed_routed_.find(pid); it != handed_routed_.end()) routed = it->second & ~allowed;
  records_.set(pid, Filters{allowed, routed, {}, ~allowed & ~routed, "daemon-restarted", {}});
  if (started_) {
    ++readbacks_pending_;
    post_readback(pid, std::chrono::steady_clock::now() + kReadbackBudget);
  } else {
    readback_.push_back(pid);
  }
  return true;
}

void Enforcer::post_readback(Pid pid, std::chrono::steady_clock::time_point deadline) {
  tracer_.post([this, pid, deadline] {
    // On the tracer thread: a target that does not stop in time is let go.
    const auto left =
        std::max(std::chrono::steady_clock::duration::zero(), deadline - std::chrono::steady_clock::now());
    auto programs = tracer_.filters_of(pid, std::chrono::duration_cast<std::chrono::milliseconds>(left));
    SyscallSet routed;
    {
      MutexLock lock(records_mu_);
      if (auto it = handed_routed_.find(pid); it != handed_routed_.end()) routed = it->second;
    }
    auto f = programs ? record_from(programs.value(), routed) : std::nullopt;
    MutexLock lock(records_mu_);
    if (f && records_.contains(pid)) records_.set(pid, *f);  // else keep the conservative record
    --readbacks_pending_;
  });
}

void Enforcer::add_handed_routed(const std::map<Pid, SyscallSet>& routed) {
  MutexLock lock(records_mu_);
  for (const auto& [pid, set] : routed) handed_routed_.insert_or_assign(pid, set);  // the later snapshot
}

Result<Enforcer::Handed> Enforcer::hand_over() {
  Handed out;
  // Returns between two answers: no decision is in flight, the next one is
  // the successor's. (Not under decide_mu_: the supervisor thread may be
  // waiting for it, shared, to answer a call before it sees the pause.)
  supervisor_.pause();
  BOOST_OUTCOME_TRY(listeners, supervisor_.held());
  out.listeners = std::move(listeners);
  MutexLock lock(records_mu_);
  out.routed = records_.routed_sets();
  return out;
}

Status Enforcer::resume() { return supervisor_.resume(); }

std::map<Pid, SyscallSet> Enforcer::routed_now() {
  MutexLock lock(records_mu_);
  return records_.routed_sets();
}

void Enforcer::take_over(std::vector<Supervisor::Held> listeners, std::map<Pid, SyscallSet> routed) {
  MutexLock lock(records_mu_);
  handed_listeners_ = std::move(listeners);
  handed_routed_ = std::move(routed);
}

std::vector<Loss> Enforcer::stricter(Pid pid, const SyscallSet& allowed) {
  if (readbacks_pending_ > 0) {
    // Report from what the kernel holds, not the conservative record.
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    tracer_.post([done] { done->set_value(); });
    future.wait();
  }
  MutexLock lock(records_mu_);
  const Filters* f = records_.find(pid);
  return f ? losses(*f, allowed) : std::vector<Loss>{};
}

void Enforcer::barrier() { WriterLock wait_for_answers(decide_mu_); }

bool Enforcer::alive(Pid pid) {
  // A pidfd keeps naming its process even after its number is reused.
  if (tracker_.pinned(pid)) return tracker_.alive(pid);
  return running(pid);
}

bool Enforcer::may_subvert(Pid pid) { return has_cap_sys_ptrace(pid); }

bool Enforcer::fail_closed(Pid pid, GroupId group, std::string_view why) {
  // Only through the pidfd: a bare number may name another process by now.
  // A process that is gone already was killed by the injector (a target
  // that kept a listener or could not be restored): reported all the same.
  if (!tracker_.pinned(pid) && alive(pid)) return false;
  tracker_.kill(pid);
  log_.notice("killed process {}: it could not be given its group's policy ({})", pid, why);
  listener_.killed(pid, group, why);
  return true;
}

Result<std::vector<pid_t>> Enforcer::enforce(Pid pid, GroupId group, const SyscallSet& group_set,
                                             const DenyErrnos& errnos, std::optional<pid_t> self, bool attach) {
  // What the filters enforce: the group's set, without io_uring where the
  // set denies anything an io_uring operation could do (core/io_uring_table.h).
  const SyscallSet allowed = enforced(group_set);
  const bool no_io_uring = !io_uring_blockers(group_set).empty();
  // Shared by plan and settle, which run in turn on the tracer thread.
  struct Step {
    Filters before;
    StepPlan plan;
    std::uint64_t id = 0;  // the tag of the step's records (0: none)
  };
  auto step = std::make_shared<Step>();
  auto plan = [this, pid, allowed, errnos, attach, no_io_uring, step]() -> Result<Tracer::Programs> {
    {
      MutexLock lock(records_mu_);
      step->before = records_.record_or_default(pid);
    }
    const StepPlan& p = step->plan = plan_step(step->before, allowed, attach, no_io_uring, errnos);
    // A ring (an io_uring fd, or only its mapping: an SQPOLL ring needs no
    // system call at all) would let it do what the set denies.
    if (p.io_uring_check && holds_io_uring(pid))
      return make_error(Errc::busy, fmt::format("process {} holds an io_uring instance, which its group denies", pid));
    Tracer::Programs f;
    // Rings no fd or mapping shows (registered ring fds): every thread is asked.
    f.probe_io_uring = p.io_uring_check;
    switch (p.install) {
      case StepPlan::Install::nothing: return f;
      case StepPlan::Install::no_new_privs: f.program = std::make_shared<const Program>(); return f;
      case StepPlan::Install::guard: {
        BOOST_OUTCOME_TRY(guard, programs_.get(SyscallSet::all()));
        f.program = guard;
        break;
      }
      case StepPlan::Install::filter: {
        // The new filter denies `block` and allows the rest: what earlier
        // filters deny stays denied by them, and what they route stays the
        // supervisor's to decide (the kernel takes the most restrictive
        // verdict of all filters; USER_NOTIF is stricter than ALLOW).
        BOOST_OUTCOME_TRY(program, programs_.get(~p.denied(), {}, errnos));
        f.program = program;
        if (p.supervised) {
          BOOST_OUTCOME_TRY(supervised, programs_.get(~p.denied(), p.block, errnos));
          f.supervised = supervised;
        }
        break;
      }
    }
    // Until settle the record claims nothing new (filters.h: the lineage).
    MutexLock lock(records_mu_);
    step->id = records_.begin(pid, step->before);
    return f;
  };
  auto settle = [this, pid, group, attach, step, errnos](Result<Injection>& r) {
    if (r && step->plan.io_uring_check && holds_io_uring(pid)) {
      // It made a ring after our first look, before the filter was in.
      r = make_error(Errc::busy, fmt::format("process {} made an io_uring instance while joining", pid));
      if (!attach)
        fail_closed(pid, group, "made an io_uring instance while its filter went in");
      else if (tracker_.kill(pid)) {
        // Its own write may have been answered already: the log says why.
        log_.notice("killed process {}: it made an io_uring instance while joining", pid);
        r = make_error(Errc::busy, fmt::format("process {} made an io_uring instance while joining; killed it", pid));
      }
    }
    if (!r) {
      {
        // Nothing went in (or it is dead): the target and every copy of its
        // provisional record have the record from before.
        MutexLock lock(records_mu_);
        records_.abandon(pid, step->id, step->before);
      }
      // A member that cannot be given the set is killed; to the tightening
      // it is then gone, like one that exited. "No process" is believed only
      // from the pin: a /proc read that failed on a live member kills it.
      const bool gone = r.error().code == Errc::no_process && !(tracker_.pinned(pid) && tracker_.alive(pid));
      if (!attach && !gone && fail_closed(pid, group, r.error().message))
        r = make_error(Errc::no_process, fmt::format("process {} was killed: {}", pid, r.error().message));
      return;
    }
    std::optional<Status> added;
    if (r.value().listener) added = supervisor_.add(std::move(r.value().listener), pid);
    NoListener why = r.value().why;
    if (added && !*added) {
      log_.error("{}; calls routed by {} fail with ENOSYS", added->error().message, pid);
      why = NoListener::lost;
    } else if (!added && step->plan.supervised && why == NoListener::none) {
      why = NoListener::lost;  // a listener was asked for, none came
    }
    const Filters settled = settled_record(step->before, step->plan, why == NoListener::none, reason(why), errnos);
    const std::set<Pid> before_filter(r.value().unfiltered.begin(), r.value().unfiltered.end());
    std::vector<Pid> not_members;
    {
      MutexLock lock(records_mu_);
      auto out = records_.settle(pid, step->id, step->before, settled, before_filter, attach);
      // Excluded before a fork event can offer them (records_mu_ -> the
      // tracker's lock).
      const auto now_ns = monotonic_ns();
      for (Pid c : out.exclude) tracker_.exclude(c, now_ns);
      not_members = std::move(out.not_members);
    }
    for (Pid c : not_members) {
      forget(c);
      listener_.exited(c);
    }
  };
  return tracer_.inject(pid, std::move(plan), std::move(settle), self, !attach, tracker_.pidfd(pid));
}

Status Enforcer::attach(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed,
                        const DenyErrnos& errnos, Pid writer_tid) {
  if (test_hold_.count() > 0) std::this_thread::sleep_for(test_hold_);  // tests only: a recycling window
  // Pinned before anything else: if the number names another process by
  // now, the write fails (ESRCH) and nothing is touched. The injector
  // checks the pin again once the target is seized.
  const bool member_before = tracker_.alive(pid);
  if (!member_before) {
    // Whatever is recorded under this number is of a process that is gone.
    MutexLock lock(records_mu_);
    records_.erase(pid);
  }
  BOOST_OUTCOME_TRY(tracker_.pin(pid, start_time));
  std::optional<pid_t> self;
  if (auto writer = read_status(writer_tid); writer && writer.value().tgid == pid) self = writer_tid;
  if (auto done = enforce(pid, group, allowed, errnos, self, true); !done) {
    if (!member_before) tracker_.forget(pid);  // a member that failed to move stays pinned
    return done.error();
  }
  return outcome::success();
}

Result<Tightened> Enforcer::policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) {
  Tightened out;
  std::optional<Error> first_error;
  const auto writer = thread_group(writer_tid);
  for (const auto& m : members) {
    std::optional<pid_t> self;
    if (writer && writer.value() == m.pid) self = writer_tid;
    // A member that cannot be stopped now gets the filter when it stops
    // (defer): it runs no user code before that. One that cannot be given
    // the filter at all is killed (settle).
    auto children = enforce(m.pid, m.group, m.allowed, m.errnos, self, false);
    if (!children) {
      if (children.error().code != Errc::no_process && !first_error)
        first_error = make_error(children.error().code, fmt::format("member {} could not be tightened nor killed: {}",
                                                                    m.pid, children.error().message));
      continue;  // the others must still be tightened
    }
    out.filtered.push_back(m.pid);
    for (pid_t c : children.value()) out.unfiltered.push_back({m.pid, c});
  }
  if (first_error) return *first_error;
  return out;
}

}  // namespace syscg::enforcer
