#include "enforcer/process_tracker.h"

#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"

#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace syscg::enforcer {
namespace {

std::int64_t ns_of(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t clock_tick_ns() {
  const long hz = sysconf(_SC_CLK_TCK);
  return 1'000'000'000 / static_cast<std::uint64_t>(hz > 0 ? hz : 100);  // 100: Linux's USER_HZ
}

}  // namespace

ProcessTracker::ProcessTracker(sys::Log& log)
    : log_(log),
      boot_offset_ns_(ns_of(CLOCK_BOOTTIME) - ns_of(CLOCK_MONOTONIC)),
      tick_ns_(clock_tick_ns()),
      watch_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!watch_)
    log_.error("process tracking: {}; a process's end is seen through exit events only",
               sys::sys_error("epoll_create1").message);
}

void ProcessTracker::set_pin_locked(Pid pid, sys::UniqueFd fd) {
  if (auto it = pidfds_.find(pid); it != pidfds_.end()) unpin_locked(it);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<std::uint64_t>(pid);
  // Without the registration its end is seen through its exit events
  // (exited()) and alive(); with it, through the pidfd, in event order.
  if (!watch_ || epoll_ctl(watch_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    if (watch_)
      log_.warning("process tracking: {} for process {}; its end is seen through exit events only",
                   sys::sys_error("epoll_ctl").message, pid);
    unwatched_.insert(pid);
  }
  pidfds_.emplace(pid, std::move(fd));
}

void ProcessTracker::unpin_locked(std::map<Pid, sys::UniqueFd>::iterator it) {
  // Explicitly: a dup of the pidfd (pidfd()) would keep the registration.
  if (watch_) (void)epoll_ctl(watch_.get(), EPOLL_CTL_DEL, it->second.get(), nullptr);
  unwatched_.erase(it->first);
  pidfds_.erase(it);
}

void ProcessTracker::watched_ready(const std::function<void()>& drain) {
  epoll_event events[64];
  const int n = watch_ ? epoll_wait(watch_.get(), events, 64, 0) : 0;
  if (n < 0 && errno != EINTR)
    log_.error("process tracking: {}; ends are seen through exit events and the next decision",
               sys::sys_error("epoll_wait").message);
  if (n <= 0) return;
  drain();  // the forks these processes made come first
  std::vector<Pid> gone;
  {
    MutexLock lock(mu_);
    for (int i = 0; i < n; ++i) {
      const auto pid = static_cast<Pid>(events[i].data.u64);
      auto it = pidfds_.find(pid);
      if (it == pidfds_.end() || !has_ended(it->second)) continue;  // handled meanwhile, or re-pinned
      unpin_locked(it);
      gone.push_back(pid);
    }
  }
  for (Pid pid : gone) observer_->ended(pid);
}

ProcessTracker::~ProcessTracker() { stop(); }

void ProcessTracker::stop() { events_.reset(); }

Status ProcessTracker::start(Observer& observer) {
  observer_ = &observer;
  BOOST_OUTCOME_TRY(events, ProcEvents::start(*this, log_, watch_ ? watch_.get() : -1));
  events_ = std::move(events);
  return outcome::success();
}

void ProcessTracker::sync() {
  if (events_) events_->drain();
}

std::unique_lock<std::mutex> ProcessTracker::pause() {
  if (events_) return events_->pause();
  return std::unique_lock(idle_mu_);  // no events thread: nothing is delivered
}

sys::UniqueFd ProcessTracker::open_if(Pid pid, std::uint64_t start_ticks, std::uint64_t slack_ticks) {
  // Open first, then read the start time: if /proc still shows the expected
  // process after the pidfd exists, the pidfd names it (a number is reused
  // only after its process is gone, and the pidfd keeps naming the old one).
  sys::UniqueFd fd = open_pidfd(pid);
  if (!fd) return fd;
  auto st = read_status(pid);
  if (!st || st.value().tgid != pid) return sys::UniqueFd();
  const std::uint64_t got = st.value().start_time;
  const std::uint64_t diff = got > start_ticks ? got - start_ticks : start_ticks - got;
  if (diff > slack_ticks) return sys::UniqueFd();
  return fd;
}

Status ProcessTracker::pin(Pid tgid, std::uint64_t start_time) {
  sys::UniqueFd fd = open_if(tgid, start_time, 0);
  if (!fd) return make_error(Errc::no_process, fmt::format("process {} has exited", tgid));
  MutexLock lock(mu_);
  set_pin_locked(tgid, std::move(fd));
  return outcome::success();
}

bool ProcessTracker::pinned(Pid tgid) {
  MutexLock lock(mu_);
  return pidfds_.contains(tgid);
}

bool ProcessTracker::alive_locked(Pid tgid) {
  auto it = pidfds_.find(tgid);
  return it != pidfds_.end() && !has_ended(it->second);
}

bool ProcessTracker::alive(Pid tgid) {
  MutexLock lock(mu_);
  return alive_locked(tgid);
}

void ProcessTracker::forget(Pid tgid) {
  MutexLock lock(mu_);
  if (auto it = pidfds_.find(tgid); it != pidfds_.end()) unpin_locked(it);
}

bool ProcessTracker::kill(Pid tgid) {
  MutexLock lock(mu_);
  auto it = pidfds_.find(tgid);
  if (it == pidfds_.end()) return false;
  return kill_by(it->second);
}

sys::UniqueFd ProcessTracker::pidfd(Pid tgid) {
  MutexLock lock(mu_);
  auto it = pidfds_.find(tgid);
  if (it == pidfds_.end()) return sys::UniqueFd();
  return sys::UniqueFd(fcntl(it->second.get(), F_DUPFD_CLOEXEC, 0));
}

void ProcessTracker::exclude(Pid child, std::uint64_t before_ns) {
  MutexLock lock(mu_);
  excluded_[child] = before_ns;
}

void ProcessTracker::forked(Pid parent, Pid child, std::uint64_t when_ns) {
  {
    MutexLock lock(mu_);
    if (auto it = excluded_.find(child); it != excluded_.end()) {
      const bool excluded = when_ns <= it->second;
      excluded_.erase(it);
      if (excluded) return;
    }
  }
  // Membership follows the order of events, even for a child that has
  // exited (or whose number was reused) by now: its own children's fork
  // events come after this one and must find it.
  if (!observer_->forked(parent, child)) return;
  // The fork event's time (CLOCK_MONOTONIC) against the child's start time
  // (CLOCK_BOOTTIME, clock ticks): the kernel takes both within
  // microseconds, in copy_process(); one tick of slack each way.
  const auto boot_ns = static_cast<std::uint64_t>(static_cast<std::int64_t>(when_ns) + boot_offset_ns_);
  sys::UniqueFd fd = open_if(child, boot_ns / tick_ns_, 1);
  MutexLock lock(mu_);
  if (fd)
    set_pin_locked(child, std::move(fd));
  else if (auto it = pidfds_.find(child); it != pidfds_.end())
    unpin_locked(it);  // gone already
}

void ProcessTracker::exited(Pid tid, Pid tgid) {
  bool ended;
  {
    MutexLock lock(mu_);
    if (tid == tgid) excluded_.erase(tgid);  // its fork event came and went
    // A pinned process ends through its pidfd (watched_ready), never here:
    // an exit event may be handled long after it was sent, and the pidfd
    // says how the process is *now*. Taking a thread's exit (the private
    // thread of an injection, or the leader's while others live) for the
    // process's end because the pidfd is readable by then would report the
    // end before the fork events the process made after that thread's exit,
    // still queued behind it: its children would find it in no group (a
    // fork-and-exit chain lost its members under load: the flaky test's
    // cause). watched_ready drains every queued event first.
    // (A pin epoll could not watch keeps the old way: its pidfd at any of
    // its exit events, or a member would never end.)
    auto it = pidfds_.find(tgid);
    if (it == pidfds_.end()) {
      ended = tid == tgid;  // an unpinned member ends with its leader
    } else {
      ended = unwatched_.contains(tgid) && has_ended(it->second);
      if (ended) unpin_locked(it);
    }
  }
  if (ended) observer_->ended(tgid);
}

void ProcessTracker::lost() {
  // Events were dropped: every pinned process that is gone has ended, and
  // every process is offered with its current parent, parents first.
  log_.error(
      "process events were lost; membership rebuilt from /proc (orphans of members made meanwhile are not seen)");
  std::vector<Pid> gone;
  {
    MutexLock lock(mu_);
    for (auto& [pid, fd] : pidfds_)
      if (has_ended(fd)) gone.push_back(pid);
    for (Pid pid : gone) unpin_locked(pidfds_.find(pid));
  }
  for (Pid pid : gone) observer_->ended(pid);
  rescan();
}

void ProcessTracker::rescan() {
  std::vector<ProcStatus> all;
  if (auto pids = all_processes()) {
    for (Pid pid : pids.value())
      if (auto st = read_status(pid)) all.push_back(st.value());
  } else {
    log_.error(
        "process events: the rescan could not list /proc ({}); children of members made meanwhile are not listed",
        pids.error().message);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.start_time < b.start_time; });
  for (const auto& st : all) {
    if (pinned(st.tgid)) continue;
    if (observer_->rescanned(st.ppid, st.tgid)) {
      // A member: pin it as /proc shows it.
      sys::UniqueFd fd = open_if(st.tgid, st.start_time, 0);
      MutexLock lock(mu_);
      if (fd) set_pin_locked(st.tgid, std::move(fd));
    }
  }
}

}  // namespace syscg::enforcer
