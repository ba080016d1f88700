#include "enforcer/enforcer.h"

#include "core/io_uring_table.h"
#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/interpreter.h"
#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <thread>
#include <cerrno>
#include <cstring>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscg::enforcer {

namespace {

// Whether one of a re-adopted member's filters is ours with its clone
// guard: clone(CLONE_PARENT) refused, clone3 ENOSYS.
bool guarded(const std::vector<Program>& programs) {
  auto refuses = [&](unsigned nr, std::uint64_t a0, std::uint32_t want) {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = AUDIT_ARCH_X86_64;
    d.args[0] = a0;
    return std::any_of(programs.begin(), programs.end(), [&](const Program& p) {
      auto r = bpf::run(p, d);
      return r && r.value() == want;
    });
  };
  return refuses(bpf::kCloneNr, bpf::kCloneParent, SECCOMP_RET_ERRNO | EPERM) &&
         refuses(bpf::kClone3Nr, 0, SECCOMP_RET_ERRNO | ENOSYS);
}

std::string_view reason(NoListener why) {
  switch (why) {
    case NoListener::own_listener: return "own-listener";
    case NoListener::threads_diverged: return "threads-diverged";
    case NoListener::not_stopped: return "not-stopped";
    case NoListener::shared_files: return "shared-files";
    case NoListener::unsupported: return "kernel-too-old";
    case NoListener::refused: return "daemon-restarted";
    case NoListener::lost: return "listener-lost";
    case NoListener::none: break;
  }
  return "tightened";
}

}  // namespace

Enforcer::Enforcer(std::chrono::milliseconds stop_deadline)
    : self_(getpid()), supervisor_([this](pid_t tid, unsigned nr) { return decide(tid, nr); }, decide_mu_),
      tracer_(log_, stop_deadline), tracker_(*this) {
  // A fault hook for the tests of pid recycling: a pause between
  // identifying a written pid and pinning it.
  if (const char* ms = std::getenv("SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS")) test_hold_ = std::chrono::milliseconds(std::atoi(ms));
}

void Enforcer::start() {
  self_ = getpid();  // the daemonized process
  // Non-dumpable: only CAP_SYS_PTRACE can then read the daemon's memory or
  // take its fds (the supervisor's listeners) with pidfd_getfd.
  if (prctl(PR_SET_DUMPABLE, 0) != 0)
    fmt::print(stderr, "syscgfs: error: prctl(PR_SET_DUMPABLE, 0): {}\n", std::strerror(errno));
  if (auto s = supervisor_.start(); !s)
    fmt::print(stderr, "syscgfs: error: the supervisor did not start ({}); routed calls fail with ENOSYS\n",
               s.error().message);
  tracer_.start();
  std::vector<Pid> adopted;
  {
    std::lock_guard lock(records_mu_);
    adopted.swap(readback_);
    readbacks_pending_ = static_cast<int>(adopted.size());
  }
  // Before any FUSE request can queue an injection: jobs run in order.
  for (Pid pid : adopted)
    tracer_.post([this, pid] {
      auto f = read_filters(pid);
      std::lock_guard lock(records_mu_);
      if (f && filters_.contains(pid)) filters_[pid] = *f;  // else keep the conservative record
      --readbacks_pending_;
    });
  if (auto events = tracker_.start(); !events) {
    // Without the connector, members' children are still filtered (seccomp
    // is inherited) but are not listed, and tightening reaches them only
    // through their parents' children lists.
    fmt::print(stderr, "syscgfs: warning: process events unavailable ({}); fork tracking is degraded\n",
               events.error().message);
  }
}

Enforcer::~Enforcer() = default;

void Enforcer::set_listener(MembershipListener* listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = listener;
}

void Enforcer::forget(Pid pid) {
  tracker_.forget(pid);
  std::lock_guard lock(records_mu_);
  filters_.erase(pid);
  unfiltered_.erase(pid);
}

bool Enforcer::forked(Pid parent, Pid child) {
  // Membership is the listener's to decide (the hierarchy), not ours.
  bool member = false;
  {
    std::lock_guard lock(listener_mu_);
    if (listener_) member = listener_->forked(parent, child);
  }
  if (!member) return false;
  std::lock_guard lock(records_mu_);
  // It has what its parent had when it forked: the parent's record, unless
  // the parent was tightened after the fork (settle left the record then).
  if (auto early = unfiltered_.find(child); early != unfiltered_.end()) {
    filters_[child] = early->second;
    unfiltered_.erase(early);
  } else if (auto it = filters_.find(parent); it != filters_.end()) {
    filters_[child] = it->second;
  } else {
    return true;
  }
  filters_[child].from = parent;
  return true;
}

bool Enforcer::rescanned(Pid parent, Pid child) {
  {
    std::lock_guard lock(records_mu_);
    if (filters_.contains(child)) return false;  // known (and pinned, or gone)
  }
  return forked(parent, child);
}

void Enforcer::ended(Pid pid) {
  {
    std::lock_guard lock(records_mu_);
    filters_.erase(pid);
    unfiltered_.erase(pid);
  }
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_->exited(pid);
}

void Enforcer::sync() { tracker_.sync(); }

std::unique_lock<std::mutex> Enforcer::pause_events() { return tracker_.pause(); }

Result<Process> Enforcer::identify(Pid written, Pid writer_tid) {
  BOOST_OUTCOME_TRY(st, read_status(written == 0 ? writer_tid : written));
  if (st.kernel_thread) return make_error(Errc::invalid, fmt::format("{} is a kernel thread", written));
  if (st.state == 'Z' || st.state == 'X') return make_error(Errc::no_process, fmt::format("{} has exited", written));
  // The daemon and its ancestors: filtering them could stop syscg itself.
  for (Pid p = self_; p > 0;) {
    if (p == st.tgid)
      return make_error(Errc::invalid, fmt::format("{} is syscgfs or one of its ancestors", st.tgid));
    auto up = read_status(p);
    if (!up) break;
    p = up.value().ppid;
  }
  BOOST_OUTCOME_TRY(leader, read_status(st.tgid));
  return Process{st.tgid, st.uid, st.euid, st.suid, leader.start_time};
}

bool Enforcer::adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) {
  auto st = read_status(pid);
  if (!st || st.value().tgid != pid || st.value().start_time != start_time || st.value().state == 'Z') return false;
  if (!tracker_.pin(pid, start_time)) return false;
  // Its filters enforce at least `allowed` (the previous daemon saw to
  // that); start() has the tracer read what they really do, first thing.
  std::lock_guard lock(records_mu_);
  filters_[pid] = Filters{allowed, {}, {}, ~allowed, "daemon-restarted"};
  readback_.push_back(pid);
  return true;
}

// Runs on the tracer thread (a target that does not stop in time is let go
// by finish_detaches there).
std::optional<Enforcer::Filters> Enforcer::read_filters(Pid pid) {
  auto programs = tracer_.filters_of(pid, std::chrono::seconds(1));
  if (!programs) return std::nullopt;
  // The kernel runs every filter and keeps the most restrictive action
  // (compared as signed: KILL_PROCESS < KILL_THREAD < TRAP < ERRNO <
  // USER_NOTIF < TRACE < LOG < ALLOW). Arguments 0: the number's verdict.
  Filters f{SyscallSet::none(), {}, {}, {}, "daemon-restarted"};
  f.guarded = guarded(programs.value());
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = AUDIT_ARCH_X86_64;
    std::int32_t strictest = static_cast<std::int32_t>(SECCOMP_RET_ALLOW);
    bool by_args = false;  // some path looks at arguments: other arguments may pass
    for (const auto& p : programs.value()) {
      bpf::Trace trace;
      auto r = bpf::run(p, d, &trace);
      if (!r) return std::nullopt;  // a filter our interpreter cannot run
      by_args |= std::any_of(trace.loads.begin(), trace.loads.end(),
                             [](std::uint32_t off) { return off >= offsetof(seccomp_data, args); });
      strictest = std::min(strictest, static_cast<std::int32_t>(r.value() & SECCOMP_RET_ACTION_FULL));
    }
    const auto action = static_cast<std::uint32_t>(strictest);
    // What a listener of the previous daemon answered now fails with
    // ENOSYS; anything else that is not an allow is a filter's for good.
    // Where arguments decide, it counts as callable: a later deny then
    // stacks a filter for it (denying too much is safe, too little not).
    // clone3 answers ENOSYS by the guard of every filter of ours (glibc
    // falls back to clone): the group's verdict, not a loss.
    const bool guard = nr == bpf::kClone3Nr && f.guarded;
    if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG || by_args || guard) (void)f.hard.set(nr);
    else if (action == SECCOMP_RET_USER_NOTIF) (void)f.unsupervised.set(nr);
    else (void)f.tightened.set(nr);
  }
  return f;
}

std::vector<Loss> Enforcer::stricter(Pid pid, const SyscallSet& allowed) {
  if (readbacks_pending_ > 0) {
    // Report from what the kernel holds, not the conservative record.
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    tracer_.post([done] { done->set_value(); });
    future.wait();
  }
  std::lock_guard lock(records_mu_);
  auto it = filters_.find(pid);
  if (it == filters_.end()) return {};
  const Filters& f = it->second;
  std::vector<Loss> out;
  if (auto lost = allowed & f.tightened; !lost.empty()) out.push_back({lost, "tightened"});
  if (auto lost = allowed & f.unsupervised; !lost.empty()) out.push_back({lost, f.why_unsupervised});
  return out;
}

void Enforcer::barrier() { std::unique_lock wait_for_answers(decide_mu_); }

std::optional<bool> Enforcer::ask(Pid tgid, unsigned nr) {
  std::lock_guard lock(listener_mu_);
  return listener_ ? listener_->trapped(tgid, nr) : std::optional<bool>(false);
}

// Runs on the supervisor thread, which holds decide_mu_ shared. The caller
// is blocked in its notification while we look, so `tid` keeps naming it:
// were it killed meanwhile (and its number reused), the kernel would refuse
// the answer (SECCOMP_IOCTL_NOTIF_SEND: ENOENT), so no other task gets it.
bool Enforcer::decide(pid_t tid, unsigned nr) {
  if (tid <= 0) return false;  // not visible in our pid namespace
  for (int attempt = 0; attempt < 2; ++attempt) {
    // First the view as it is; then (a child whose fork event is still
    // queued, a member whose exit was not seen) every event up to now.
    // Never the caller's current parent: an orphan's is a subreaper, in
    // any group.
    if (attempt > 0) sync();
    // Most callers are a leader thread: a live pinned process whose id is
    // `tid` (no other task can hold that number while it lives).
    if (tracker_.alive(tid)) {
      if (auto v = ask(tid, nr)) return *v;
      continue;
    }
    // Else the kernel's current thread group of `tid`. Only a member whose
    // pinned process is alive is asked: a stale entry (its process gone,
    // the number reused) decides nothing, and is retired once the events
    // up to now are in.
    auto st = read_status(tid);
    if (!st) return false;
    const Pid tgid = st.value().tgid;
    if (tracker_.pinned(tgid)) {
      if (tracker_.alive(tgid)) {
        if (auto v = ask(tgid, nr)) return *v;
      } else if (attempt > 0) {
        tracker_.forget(tgid);
        ended(tgid);
      }
    } else if (attempt > 0) {
      if (auto v = ask(tgid, nr)) return *v;  // a member whose pidfd could not be taken
    }
  }
  return false;
}

Result<Pid> Enforcer::thread_group(Pid tid) {
  BOOST_OUTCOME_TRY(st, read_status(tid));
  return st.tgid;
}

bool Enforcer::alive(Pid pid) {
  // A pidfd keeps naming its process even after its number is reused.
  if (tracker_.pinned(pid)) return tracker_.alive(pid);
  auto st = read_status(pid);
  return st && st.value().state != 'Z' && st.value().state != 'X';
}

bool Enforcer::may_subvert(Pid pid) {
  auto caps = read_capabilities(pid);
  constexpr unsigned kCapSysPtrace = 19;  // include/uapi/linux/capability.h
  return caps && (caps.value() >> kCapSysPtrace & 1) != 0;
}

Result<std::shared_ptr<const Program>> Enforcer::program_for(const SyscallSet& allowed, const SyscallSet& notify) {
  std::lock_guard lock(cache_mu_);
  const auto key = std::make_pair(allowed, notify);
  if (auto it = programs_.find(key); it != programs_.end()) return it->second;
  BOOST_OUTCOME_TRY(program, bpf::compile(allowed, notify));
  auto shared = std::make_shared<const Program>(std::move(program));
  programs_.emplace(key, shared);
  return shared;
}

Enforcer::Filters Enforcer::copy_of(const Filters& record, Pid from) {
  Filters copy = record;
  copy.from = from;
  return copy;
}

Enforcer::Filters Enforcer::after(const Filters& before, const SyscallSet& block, NoListener why, bool errno_only) {
  Filters now = before;
  if (block.empty()) return now;
  now.hard &= ~block;
  if (errno_only) {
    now.tightened |= block;
  } else if (why == NoListener::none) {
    now.routed |= block;
  } else {
    now.unsupervised |= block;
    now.why_unsupervised = reason(why);
  }
  return now;
}

bool Enforcer::fail_closed(Pid pid, GroupId group, std::string_view why) {
  // Only through the pidfd: a bare number may name another process by now.
  // A process that is gone already was killed by the injector (a target
  // that kept a listener or could not be restored): reported all the same.
  if (!tracker_.pinned(pid) && alive(pid)) return false;
  tracker_.kill(pid);
  fmt::print(stderr, "syscgfs: killed process {}: it could not be given its group's policy ({})\n", pid, why);
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_->killed(pid, group, why);
  return true;
}

Result<std::vector<pid_t>> Enforcer::enforce(Pid pid, GroupId group, const SyscallSet& group_set,
                                             std::optional<pid_t> self, bool attach) {
  // What the filters enforce: the group's set, without io_uring where the
  // set denies anything an io_uring operation could do (core/io_uring_table.h).
  const SyscallSet allowed = enforced(group_set);
  const bool no_io_uring = !io_uring_blockers(group_set).empty();
  // Shared by plan and settle, which run in turn on the tracer thread.
  struct Step {
    Filters before;
    SyscallSet block;  // what the member can still call unasked but must not
    bool supervised = false;
    bool filtered = false;  // a filter goes in (at least the clone guard)
    bool io_uring_check = false;  // it may hold rings its group now forbids
    std::uint64_t id = 0;   // the tag of the step's records
  };
  auto step = std::make_shared<Step>();
  auto plan = [this, pid, allowed, attach, no_io_uring, step]() -> Result<Tracer::Programs> {
    {
      std::lock_guard lock(records_mu_);
      if (auto it = filters_.find(pid); it != filters_.end()) step->before = it->second;
    }
    // Only a process that could use io_uring until now can hold a ring of
    // its own (one its filters kept from io_uring was looked at then).
    step->io_uring_check = no_io_uring && !(io_uring_calls() & (step->before.hard | step->before.routed)).empty();
    // A ring (an io_uring fd, or only its mapping: an SQPOLL ring needs no
    // system call at all) would let it do what the set denies.
    if (step->io_uring_check && holds_io_uring(pid))
      return make_error(Errc::busy, fmt::format("process {} holds an io_uring instance, which its group denies", pid));
    step->block = step->before.hard & ~allowed;
    // clone3 is ENOSYS under every filter of ours already.
    if (step->before.guarded) (void)step->block.reset(bpf::kClone3Nr);
    Tracer::Programs f;
    // Rings no fd or mapping shows (registered ring fds): every thread is asked.
    f.probe_io_uring = step->io_uring_check;
    if (step->block.empty()) {
      // Nothing new to deny. A process joining gets no_new_privs, and the
      // clone guard if no filter of ours has given it one yet; a member is
      // left alone unless it must be asked about io_uring.
      if (!attach && !f.probe_io_uring) return f;
      if (step->before.guarded) {
        f.program = std::make_shared<const Program>();
        return f;
      }
      BOOST_OUTCOME_TRY(guard, program_for(SyscallSet::all()));
      f.program = guard;
    } else {
      // The new filter denies `block` and allows the rest: what earlier
      // filters deny stays denied by them, and what they route stays the
      // supervisor's to decide (the kernel takes the most restrictive
      // verdict of all filters; USER_NOTIF is stricter than ALLOW).
      BOOST_OUTCOME_TRY(program, program_for(~step->block));
      f.program = program;
      // A listener of ours already in the chain: a second is impossible.
      step->supervised = step->before.routed.empty();
      if (step->supervised) {
        BOOST_OUTCOME_TRY(supervised, program_for(~step->block, step->block));
        f.supervised = supervised;
      }
    }
    step->filtered = true;
    // Until settle the record claims nothing new: children whose fork
    // events come meanwhile copy it with this step's tag, and settle raises
    // exactly those it can show were forked after the filter went in.
    std::lock_guard lock(records_mu_);
    step->id = ++steps_;
    auto& provisional = filters_[pid];
    provisional = step->before;
    provisional.step = step->id;
    return f;
  };
  auto settle = [this, pid, group, attach, step](Result<Injection>& r) {
    if (r && step->io_uring_check && holds_io_uring(pid)) {
      // It made a ring after our first look, before the filter was in.
      r = make_error(Errc::busy, fmt::format("process {} made an io_uring instance while joining", pid));
      if (!attach) fail_closed(pid, group, "made an io_uring instance while its filter went in");
      else if (tracker_.kill(pid)) r = make_error(Errc::busy, fmt::format("process {} made an io_uring instance while joining; killed it", pid));
    }
    if (!r) {
      {
        // Nothing went in (or it is dead): the target and every copy of
        // its provisional record (children forked meanwhile) have the record
        // from before. A copy may understate what a child has, never
        // overstate it: a later tightening then stacks a filter too many,
        // never one too few.
        std::lock_guard lock(records_mu_);
        filters_[pid] = step->before;
        if (step->id != 0)
          for (auto& [p, rec] : filters_)
            if (rec.step == step->id && p != pid) rec = copy_of(step->before, rec.from);
      }
      // A member that cannot be given the set is killed; to the tightening
      // it is then gone, like one that exited.
      if (!attach && r.error().code != Errc::no_process && fail_closed(pid, group, r.error().message))
        r = make_error(Errc::no_process, fmt::format("process {} was killed: {}", pid, r.error().message));
      return;
    }
    std::optional<Status> added;
    if (r.value().listener) added = supervisor_.add(std::move(r.value().listener));
    NoListener why = r.value().why;
    if (added && !*added) {
      fmt::print(stderr, "syscgfs: error: {}; calls routed by {} fail with ENOSYS\n", added->error().message, pid);
      why = NoListener::lost;
    } else if (!added && step->supervised && why == NoListener::none) {
      why = NoListener::lost;  // a listener was asked for, none came
    }
    std::vector<Pid> not_members;
    {
      std::lock_guard lock(records_mu_);
      Filters settled = after(step->before, step->block, why, !step->supervised);
      settled.guarded = step->before.guarded || step->filtered;
      settled.step = step->id;
      filters_[pid] = settled;
      // Children forked before the filter reached their parent do not have
      // it, nor do their own children. Those whose fork events are still to
      // come take the record they do have from unfiltered_ (or, for a
      // process joining a group, are excluded). Members among them are
      // tightened on their own next.
      const auto now_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
              .count());
      const std::set<Pid> before_filter(r.value().unfiltered.begin(), r.value().unfiltered.end());
      for (pid_t c : before_filter) {
        if (filters_.contains(c)) continue;
        if (attach) tracker_.exclude(c, now_ns);
        else unfiltered_[c] = step->before;
      }
      // Copies of this step's provisional record are raised to the settled
      // one only along a chain of parents that have the filter, starting
      // at the target: a child it forked after the filter (not among those
      // found before), that child's own children, and so on. A copy whose
      // chain is broken (a parent that has ended, whose record is gone)
      // keeps the record from before: it may understate what the process
      // has (a later tightening stacks a filter too many), never overstate.
      std::set<Pid> has{pid};
      for (bool grew = true; grew;) {
        grew = false;
        for (auto& [p, rec] : filters_)
          if (rec.step == step->id && p != pid && !has.contains(p) && has.contains(rec.from) &&
              !(rec.from == pid && before_filter.contains(p))) {
            rec = copy_of(settled, rec.from);
            has.insert(p);
            grew = true;
          }
      }
      // A process joining a group does not bring its earlier children
      // (cgroup semantics): those whose fork event came meanwhile leave
      // again, with the children they made.
      if (attach) {
        std::set<Pid> out(before_filter.begin(), before_filter.end());
        for (bool grew = true; grew;) {
          grew = false;
          for (auto& [p, rec] : filters_)
            if (rec.step == step->id && !has.contains(p) && out.contains(rec.from) && out.insert(p).second) grew = true;
        }
        for (Pid p : out)
          if (auto it = filters_.find(p); it != filters_.end() && it->second.step == step->id) not_members.push_back(p);
      }
    }
    for (Pid c : not_members) {
      forget(c);
      std::lock_guard lock(listener_mu_);
      if (listener_) listener_->exited(c);
    }
  };
  return tracer_.inject(pid, std::move(plan), std::move(settle), self, !attach, tracker_.pidfd(pid));
}

Status Enforcer::attach(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed,
                        Pid writer_tid) {
  if (test_hold_.count() > 0) std::this_thread::sleep_for(test_hold_);  // tests only: a recycling window
  // Pinned before anything else: if the number names another process by
  // now, the write fails (ESRCH) and nothing is touched. The injector
  // checks the pin again once the target is seized.
  const bool member_before = tracker_.alive(pid);
  if (!member_before) {
    // Whatever is recorded under this number is of a process that is gone.
    std::lock_guard lock(records_mu_);
    filters_.erase(pid);
    unfiltered_.erase(pid);
  }
  BOOST_OUTCOME_TRY(tracker_.pin(pid, start_time));
  std::optional<pid_t> self;
  if (auto writer = read_status(writer_tid); writer && writer.value().tgid == pid) self = writer_tid;
  if (auto done = enforce(pid, group, allowed, self, true); !done) {
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
    auto children = enforce(m.pid, m.group, m.allowed, self, false);
    if (!children) {
      if (children.error().code != Errc::no_process && !first_error)
        first_error = make_error(children.error().code,
                                 fmt::format("member {} could not be tightened nor killed: {}", m.pid,
                                             children.error().message));
      continue;  // the others must still be tightened
    }
    out.filtered.push_back(m.pid);
    for (pid_t c : children.value()) out.unfiltered.push_back({m.pid, c});
  }
  if (first_error) return *first_error;
  return out;
}

}  // namespace syscg::enforcer
