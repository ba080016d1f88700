// Process tracking: which processes exist, who forked whom, and which
// process a number names. Every decision syscg makes about membership (the
// no-self-release check, the group of a cgroup.procs writer, the
// supervisor's answer, the members a tightening walks) reads the view kept
// here, through an Observer.
//
// Contract:
//  - sync() returns once every fork and exit that happened before the call
//    has reached the observer (the kernel queues a fork event before the
//    child runs, so a request made by a process, or by any of its
//    descendants, comes after that process's fork event). After an event
//    queue overflow the observer's view is rebuilt from /proc before sync()
//    returns, and concurrent callers wait for it: no decision is made on a
//    partial view.
//  - pause() holds deliveries back (they queue up in the kernel): a move
//    holds it from injection to the membership commit, so that a child the
//    moved process forks meanwhile is judged against the committed group.
//  - Identity: pin() opens a pidfd for a process and checks it is the one
//    identified earlier (pid and start time); alive() answers for the pinned
//    process, never for whoever holds its number later. A fork event's child
//    is pinned only if its start time matches the event's time (a number
//    recycled before the event was handled names another process).
//  - A process ends when its last thread exits (its leader may have exited
//    long before): ended() is reported then, exactly once per pin. Every
//    pinned pidfd is watched (epoll): its turning readable is the end, and
//    is handled only after every fork event queued before it.
//  - exclude(child, before_ns): a child forked before its parent joined a
//    group (found while the parent was stopped); when its fork event
//    arrives it is not offered to the observer. Only a fork event older
//    than `before_ns` (CLOCK_MONOTONIC) matches: a later process that
//    reuses the number is judged as any other.
//
// Thread safety: every method may be called from any thread; the observer
// is called from the events thread or from a sync() caller, one delivery at
// a time, with the delivery lock (ProcEvents' read_mu_, the one pause()
// returns) held and the tracker's own lock (mu_, a leaf) not held.
// Lock order: delivery lock -> (observer's locks) -> mu_.
//
// Wiring: the observer is given to start() by the owner (the Enforcer,
// which owns this tracker); the tracker registers itself as the handler of
// the ProcEvents it creates and owns there (ownership-internal).
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "enforcer/proc_events.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <mutex>

namespace syscg::enforcer {

class ProcessTracker final : private ProcEventHandler {
 public:
  class Observer {
   public:
    virtual ~Observer() = default;
    // A new process whose parent is `parent`; true when it is a member now
    // (then it is pinned).
    virtual bool forked(Pid parent, Pid child) = 0;
    virtual void ended(Pid tgid) = 0;
    // Every process, parents first, after lost events: the observer adds
    // the children of members it does not know yet; true when `child` is
    // a member (then it is pinned).
    virtual bool rescanned(Pid parent, Pid child) = 0;
  };

  explicit ProcessTracker(sys::Log& log);
  ~ProcessTracker() override;
  // Ends the events thread (if started); later sync() and pause_events()
  // do nothing. Idempotent; not concurrent with sync().
  void stop();
  ProcessTracker(const ProcessTracker&) = delete;
  ProcessTracker& operator=(const ProcessTracker&) = delete;

  // Starts the events thread, reporting to `observer` (which must outlive
  // this tracker). Errors as ProcEvents::start; without it forks are not
  // seen, and sync() cannot promise anything (the caller reports it). Call
  // once.
  Status start(Observer& observer);
  bool running() const { return events_ != nullptr; }

  void sync();
  std::unique_lock<std::mutex> pause();

  // Errors: no_process when `tgid` no longer names the process that started
  // at `start_time`.
  Status pin(Pid tgid, std::uint64_t start_time) SYSCG_EXCLUDES(mu_);
  bool pinned(Pid tgid) SYSCG_EXCLUDES(mu_);
  bool alive(Pid tgid) SYSCG_EXCLUDES(mu_);
  void forget(Pid tgid) SYSCG_EXCLUDES(mu_);
  // SIGKILL to the pinned process (never to a recycled number); false when
  // it is not pinned or already gone.
  bool kill(Pid tgid) SYSCG_EXCLUDES(mu_);
  // A dup of the pinned process's pidfd (invalid when not pinned).
  sys::UniqueFd pidfd(Pid tgid) SYSCG_EXCLUDES(mu_);

  void exclude(Pid child, std::uint64_t before_ns) SYSCG_EXCLUDES(mu_);
  // Offers every process not pinned yet to the observer, parents first
  // (rescanned): children of members forked while no event reached us
  // (before start(), or events lost) join their parents' groups. Reads all
  // of /proc.
  void rescan() SYSCG_EXCLUDES(mu_);

 private:
  void forked(Pid parent, Pid child, std::uint64_t when_ns) override;
  void exited(Pid tid, Pid tgid) override;
  void lost() override;
  void watched_ready(const std::function<void()>& drain) override;
  // pidfds_ with its epoll registration.
  void set_pin_locked(Pid pid, sys::UniqueFd fd) SYSCG_REQUIRES(mu_);
  void unpin_locked(std::map<Pid, sys::UniqueFd>::iterator it) SYSCG_REQUIRES(mu_);
  // Opens a pidfd for `pid` if it still names the process that started at
  // `start_ticks` (clock ticks after boot, /proc/PID/stat).
  static sys::UniqueFd open_if(Pid pid, std::uint64_t start_ticks, std::uint64_t slack_ticks);
  bool alive_locked(Pid tgid) SYSCG_REQUIRES(mu_);

  sys::Log& log_;
  Observer* observer_ = nullptr;  // set by start(), before the events thread exists
  Mutex mu_;                      // a leaf: guards the maps below
  std::map<Pid, sys::UniqueFd> pidfds_ SYSCG_GUARDED_BY(mu_);
  std::set<Pid> unwatched_ SYSCG_GUARDED_BY(mu_);                // pins epoll does not watch: ended by exit events
  std::map<Pid, std::uint64_t> excluded_ SYSCG_GUARDED_BY(mu_);  // child -> the time it was known to exist
  const std::int64_t boot_offset_ns_;  // CLOCK_BOOTTIME - CLOCK_MONOTONIC, for fork events' times
  const std::uint64_t tick_ns_;        // one clock tick (sysconf(_SC_CLK_TCK)) in ns
  sys::UniqueFd watch_;                // epoll over every pinned pidfd (data: the pid); set before start()
  // pause() without an events thread: nothing is delivered, the lock only
  // keeps the seam's type.
  std::mutex idle_mu_;
  std::unique_ptr<ProcEvents> events_;  // last: its thread calls into this object
};

}  // namespace syscg::enforcer
