#include "enforcer/enforcer.h"

#include "enforcer/bpf/compiler.h"
#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <algorithm>
#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscg::enforcer {

Enforcer::Enforcer(std::chrono::milliseconds stop_deadline) : self_(getpid()), tracer_(stop_deadline) {}

void Enforcer::start() {
  self_ = getpid();  // the daemonized process
  tracer_.start();
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
  enforced_.erase(pid);
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
  if (auto it = enforced_.find(parent); it != enforced_.end()) enforced_[child] = it->second;  // inherited
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
    enforced_.erase(pid);
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

bool Enforcer::adopt(Pid pid, std::uint64_t start_time) {
  auto st = read_status(pid);
  if (!st || st.value().tgid != pid || st.value().start_time != start_time || st.value().state == 'Z') return false;
  track(pid);
  return true;
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
      enforced_.erase(pid);
      return false;
    }
  }
  auto st = read_status(pid);
  return st && st.value().state != 'Z' && st.value().state != 'X';
}

Result<std::shared_ptr<const Program>> Enforcer::program_for(const SyscallSet& allowed) {
  std::lock_guard lock(cache_mu_);
  if (auto it = programs_.find(allowed); it != programs_.end()) return it->second;
  BOOST_OUTCOME_TRY(program, bpf::compile(allowed));
  auto shared = std::make_shared<const Program>(std::move(program));
  programs_.emplace(allowed, shared);
  return shared;
}

Status Enforcer::attach(Pid pid, GroupId, const SyscallSet& allowed, Pid writer_tid) {
  bool tracked_before;
  {
    std::lock_guard lock(pidfds_mu_);
    tracked_before = pidfds_.contains(pid);
  }
  track(pid);
  std::shared_ptr<const Program> program = std::make_shared<const Program>();  // allow-all: no_new_privs only
  if (bpf::needs_filter(allowed)) {
    BOOST_OUTCOME_TRY(compiled, program_for(allowed));
    program = compiled;
  }
  std::optional<pid_t> self;
  if (auto writer = read_status(writer_tid); writer && writer.value().tgid == pid) self = writer_tid;
  auto children = tracer_.inject(pid, *program, self);
  if (!children) {
    if (!tracked_before) forget(pid);  // a member that failed to move stays tracked
    return children.error();
  }
  // Children forked before the move are not members (cgroup semantics:
  // moving a process does not move its existing children).
  std::lock_guard lock(pidfds_mu_);
  auto [it, fresh] = enforced_.try_emplace(pid, allowed);
  if (!fresh) it->second &= allowed;
  return outcome::success();
}

Result<std::vector<fs::Fork>> Enforcer::policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) {
  std::vector<fs::Fork> forks;
  std::optional<Error> first_error;
  const auto writer = thread_group(writer_tid);
  for (const auto& m : members) {
    {
      // Nothing to do unless the new set is stricter than what the member's
      // filters already allow (an allow, or a deny of what it cannot use).
      std::lock_guard lock(pidfds_mu_);
      if (auto it = enforced_.find(m.pid); it != enforced_.end() && it->second.is_subset_of(m.allowed)) continue;
    }
    if (!bpf::needs_filter(m.allowed)) continue;
    BOOST_OUTCOME_TRY(program, program_for(m.allowed));
    std::optional<pid_t> self;
    if (writer && writer.value() == m.pid) self = writer_tid;
    // A member that cannot be stopped now gets the filter when it stops
    // (defer): it runs no user code before that.
    auto children = tracer_.inject(m.pid, *program, self, true);
    if (!children) {
      if (children.error().code != Errc::no_process && !first_error) first_error = children.error();
      continue;  // the others must still be tightened
    }
    {
      std::lock_guard lock(pidfds_mu_);
      auto [it, fresh] = enforced_.try_emplace(m.pid, m.allowed);
      if (!fresh) it->second &= m.allowed;
    }
    for (pid_t c : children.value()) forks.push_back({m.pid, c});
  }
  if (first_error) return *first_error;
  return forks;
}

}  // namespace syscg::enforcer
