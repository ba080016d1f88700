#include "enforcer/enforcer.h"

#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/interpreter.h"
#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscg::enforcer {

namespace {

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
      tracer_(stop_deadline) {}

void Enforcer::start() {
  self_ = getpid();  // the daemonized process
  if (auto s = supervisor_.start(); !s)
    fmt::print(stderr, "syscgfs: error: the supervisor did not start ({}); routed calls fail with ENOSYS\n",
               s.error().message);
  tracer_.start();
  std::vector<Pid> adopted;
  {
    std::lock_guard lock(pidfds_mu_);
    adopted.swap(readback_);
    readbacks_pending_ = static_cast<int>(adopted.size());
  }
  // Before any FUSE request can queue an injection: jobs run in order.
  for (Pid pid : adopted)
    tracer_.post([this, pid] {
      auto f = read_filters(pid);
      std::lock_guard lock(pidfds_mu_);
      if (f && filters_.contains(pid)) filters_[pid] = *f;  // else keep the conservative record
      --readbacks_pending_;
    });
  auto events = ProcEvents::start(*this);
  if (events) {
    events_ = std::move(events.value());
  } else {
    // Without the connector, members' children are still filtered (seccomp
    // is inherited) but are not listed, and tightening reaches them only
    // through their parents' children lists.
    fmt::print(stderr, "syscgfs: warning: process events unavailable ({}); fork tracking is degraded\n",
               events.error().message);
  }
}

Enforcer::~Enforcer() { events_.reset(); }

void Enforcer::set_listener(fs::MembershipListener* listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = listener;
}

void Enforcer::track(Pid pid) {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the kernel directly.
  UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return;  // already gone: alive() will say so
  std::lock_guard lock(pidfds_mu_);
  pidfds_[pid] = std::move(fd);
}

void Enforcer::forget(Pid pid) {
  std::lock_guard lock(pidfds_mu_);
  pidfds_.erase(pid);
  filters_.erase(pid);
  unfiltered_.erase(pid);
}

void Enforcer::forked(Pid parent, Pid child) {
  // Membership is the listener's to decide (the hierarchy), not ours.
  bool member = false;
  {
    std::lock_guard lock(listener_mu_);
    if (listener_) member = listener_->forked(parent, child);
  }
  if (!member) return;
  track(child);
  std::lock_guard lock(pidfds_mu_);
  // It has what its parent had when it forked: the parent's record, unless
  // the parent was tightened after the fork (settle left the record then).
  if (auto early = unfiltered_.find(child); early != unfiltered_.end()) {
    filters_[child] = early->second;
    unfiltered_.erase(early);
  } else if (auto it = filters_.find(parent); it != filters_.end()) {
    filters_[child] = it->second;
  }
}

void Enforcer::exited(Pid pid) {
  {
    // The event for pid == tgid comes when the main thread exits; the process
    // lives on while other threads do. Its pidfd turns readable only when the
    // whole thread group is gone; until then it stays a member (alive()
    // notices the real end).
    std::lock_guard lock(pidfds_mu_);
    if (auto it = pidfds_.find(pid); it != pidfds_.end()) {
      pollfd p{it->second.get(), POLLIN, 0};
      if (poll(&p, 1, 0) == 0) return;
      pidfds_.erase(it);
    }
    filters_.erase(pid);
    unfiltered_.erase(pid);
  }
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_->exited(pid);
}

void Enforcer::lost() { lost_ = true; }

void Enforcer::sync() {
  if (events_) events_->drain();
  if (lost_.exchange(false)) rescan();
}

// After lost events: report every live process with its parent, parents
// first (ascending start time), so the listener can rebuild membership.
void Enforcer::rescan() {
  std::vector<ProcStatus> all;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d))
      if (const int pid = std::atoi(e->d_name); pid > 0)
        if (auto st = read_status(pid)) all.push_back(st.value());
    closedir(d);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.start_time < b.start_time; });
  for (const auto& st : all) forked(st.ppid, st.tgid);
}

Result<fs::Process> Enforcer::identify(Pid written, Pid writer_tid) {
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
  return fs::Process{st.tgid, st.uid, st.euid, st.suid, leader.start_time};
}

bool Enforcer::adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) {
  auto st = read_status(pid);
  if (!st || st.value().tgid != pid || st.value().start_time != start_time || st.value().state == 'Z') return false;
  track(pid);
  // Its filters enforce at least `allowed` (the previous daemon saw to
  // that); start() has the tracer read what they really do, first thing.
  std::lock_guard lock(pidfds_mu_);
  filters_[pid] = Filters{allowed, {}, {}, ~allowed, "daemon-restarted"};
  readback_.push_back(pid);
  return true;
}

// Runs on the tracer thread (a target that does not stop in time is let go
// by finish_detaches there).
std::optional<Enforcer::Filters> Enforcer::read_filters(Pid pid) {
  auto seized = Seized::seize(pid);
  if (!seized || !seized.value().interrupt()) return std::nullopt;
  if (!seized.value().wait_stop(std::chrono::steady_clock::now() + std::chrono::seconds(1))) return std::nullopt;
  auto programs = seized.value().filters();
  if (!programs) return std::nullopt;
  // The kernel runs every filter and keeps the most restrictive action
  // (compared as signed: KILL_PROCESS < KILL_THREAD < TRAP < ERRNO <
  // USER_NOTIF < TRACE < LOG < ALLOW). Arguments 0: the number's verdict.
  Filters f{SyscallSet::none(), {}, {}, {}, "daemon-restarted"};
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
    if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG || by_args) (void)f.hard.set(nr);
    else if (action == SECCOMP_RET_USER_NOTIF) (void)f.unsupervised.set(nr);
    else (void)f.tightened.set(nr);
  }
  return f;
}

std::vector<fs::Loss> Enforcer::stricter(Pid pid, const SyscallSet& allowed) {
  if (readbacks_pending_ > 0) {
    // Report from what the kernel holds, not the conservative record.
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    tracer_.post([done] { done->set_value(); });
    future.wait();
  }
  std::lock_guard lock(pidfds_mu_);
  auto it = filters_.find(pid);
  if (it == filters_.end()) return {};
  const Filters& f = it->second;
  std::vector<fs::Loss> out;
  if (auto lost = allowed & f.tightened; !lost.empty()) out.push_back({lost, "tightened"});
  if (auto lost = allowed & f.unsupervised; !lost.empty()) out.push_back({lost, f.why_unsupervised});
  return out;
}

void Enforcer::barrier() { std::unique_lock wait_for_answers(decide_mu_); }

// Runs on the supervisor thread, which holds decide_mu_ shared.
bool Enforcer::decide(pid_t tid, unsigned nr) {
  if (tid <= 0) return false;  // not visible in our pid namespace
  auto ask = [&](Pid tgid) -> std::optional<bool> {
    std::lock_guard lock(listener_mu_);
    return listener_ ? listener_->trapped(tgid, nr) : std::optional<bool>(false);
  };
  // Most callers are a process's main thread, whose tid is the process id.
  if (auto v = ask(tid)) return *v;
  auto st = read_status(tid);
  if (!st) return false;
  if (st.value().tgid != tid)
    if (auto v = ask(st.value().tgid)) return *v;
  // A child whose fork event has not been handled yet: handle it (the
  // kernel queues the event before the child runs) and ask again. Never
  // its current parent: an orphan's is a subreaper, in any group.
  sync();
  if (auto v = ask(st.value().tgid)) return *v;
  return false;
}

Result<Pid> Enforcer::thread_group(Pid tid) {
  BOOST_OUTCOME_TRY(st, read_status(tid));
  return st.tgid;
}

bool Enforcer::alive(Pid pid) {
  {
    // A pidfd becomes readable when its process exits, and keeps naming that
    // process even after its pid is reused.
    std::lock_guard lock(pidfds_mu_);
    if (auto it = pidfds_.find(pid); it != pidfds_.end()) {
      pollfd p{it->second.get(), POLLIN, 0};
      if (poll(&p, 1, 0) == 0) return true;
      pidfds_.erase(it);
      filters_.erase(pid);
      return false;
    }
  }
  auto st = read_status(pid);
  return st && st.value().state != 'Z' && st.value().state != 'X';
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

Result<std::vector<pid_t>> Enforcer::enforce(Pid pid, const SyscallSet& allowed, std::optional<pid_t> self,
                                             bool attach) {
  // Shared by plan and settle, which run in turn on the tracer thread.
  struct Step {
    Filters before;
    SyscallSet block;  // what the member can still call unasked but must not
    bool supervised = false;
    std::uint64_t id = 0;  // the tag of the expected record
  };
  auto step = std::make_shared<Step>();
  auto plan = [this, pid, allowed, attach, step]() -> Result<Tracer::Programs> {
    {
      std::lock_guard lock(pidfds_mu_);
      if (auto it = filters_.find(pid); it != filters_.end()) step->before = it->second;
    }
    step->block = step->before.hard & ~allowed;
    if (step->block.empty())  // nothing new to deny: no filter
      return Tracer::Programs{attach ? std::make_shared<const Program>() : nullptr, nullptr};
    // The new filter denies `block` and allows the rest: what earlier
    // filters deny stays denied by them, and what they route stays the
    // supervisor's to decide (the kernel takes the most restrictive verdict
    // of all filters; USER_NOTIF is stricter than ALLOW).
    Tracer::Programs f;
    BOOST_OUTCOME_TRY(program, program_for(~step->block));
    f.program = program;
    // A listener of ours already in the chain: a second is impossible.
    step->supervised = step->before.routed.empty();
    if (step->supervised) {
      BOOST_OUTCOME_TRY(supervised, program_for(~step->block, step->block));
      f.supervised = supervised;
    }
    // Children it forks once the filter is in inherit it, and their fork
    // events may arrive before settle: they copy the expected record.
    std::lock_guard lock(pidfds_mu_);
    step->id = ++steps_;
    auto& expected = filters_[pid];
    expected = after(step->before, step->block, step->supervised ? NoListener::none : NoListener::lost,
                     !step->supervised);
    expected.step = step->id;
    return f;
  };
  auto settle = [this, pid, attach, step](Result<Injection>& r) {
    std::optional<Status> added;
    if (r && r.value().listener) added = supervisor_.add(std::move(r.value().listener));
    std::lock_guard lock(pidfds_mu_);
    if (!r) {
      filters_[pid] = step->before;  // nothing went in
      return;
    }
    NoListener why = r.value().why;
    if (added && !*added) {
      fmt::print(stderr, "syscgfs: error: {}; calls routed by {} fail with ENOSYS\n", added->error().message, pid);
      why = NoListener::lost;
    } else if (!added && step->supervised && why == NoListener::none) {
      why = NoListener::lost;  // a listener was asked for, none came
    }
    auto& now = filters_[pid];
    now = after(step->before, step->block, why, !step->supervised);
    now.step = step->id;
    // Children forked before the filter reached their parent do not have
    // it. Those whose record is a copy of this step's expected one get the
    // record they do have; those not seen yet get it when their fork event
    // comes. Members among them are tightened on their own next.
    for (pid_t c : r.value().unfiltered) {
      auto it = filters_.find(c);
      if (it != filters_.end()) {
        if (it->second.step == step->id) it->second = step->before;
      } else if (!attach) {
        unfiltered_[c] = step->before;
      }
    }
  };
  return tracer_.inject(pid, std::move(plan), std::move(settle), self, !attach);
}

Status Enforcer::attach(Pid pid, GroupId, const SyscallSet& allowed, Pid writer_tid) {
  bool tracked_before;
  {
    std::lock_guard lock(pidfds_mu_);
    tracked_before = pidfds_.contains(pid);
  }
  track(pid);
  std::optional<pid_t> self;
  if (auto writer = read_status(writer_tid); writer && writer.value().tgid == pid) self = writer_tid;
  // Children forked before the move are not members (cgroup semantics:
  // moving a process does not move its existing children).
  if (auto done = enforce(pid, allowed, self, true); !done) {
    if (!tracked_before) forget(pid);  // a member that failed to move stays tracked
    return done.error();
  }
  return outcome::success();
}

Result<std::vector<fs::Fork>> Enforcer::policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) {
  std::vector<fs::Fork> forks;
  std::optional<Error> first_error;
  const auto writer = thread_group(writer_tid);
  for (const auto& m : members) {
    std::optional<pid_t> self;
    if (writer && writer.value() == m.pid) self = writer_tid;
    // A member that cannot be stopped now gets the filter when it stops
    // (defer): it runs no user code before that.
    auto children = enforce(m.pid, m.allowed, self, false);
    if (!children) {
      if (children.error().code != Errc::no_process && !first_error) first_error = children.error();
      continue;  // the others must still be tightened
    }
    for (pid_t c : children.value()) forks.push_back({m.pid, c});
  }
  if (first_error) return *first_error;
  return forks;
}

}  // namespace syscg::enforcer
