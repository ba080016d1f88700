// Fork and exit events from the kernel's process-events connector (netlink,
// NETLINK_CONNECTOR / CN_IDX_PROC). It reports every new process, also those
// created with CLONE_UNTRACED, which ptrace's fork tracing misses, without
// polling and without staying attached to anything.
//
// Ordering (the kernel's, include/linux/cn_proc.h and kernel/fork.c): the
// fork event is queued in copy_process(), before the child is woken, so it
// precedes anything the child or the parent does afterwards; events arrive
// in order on one socket.
//
// Contract:
//  - A background thread delivers events to the handler. drain() delivers,
//    on the calling thread, everything the kernel has queued so far: once it
//    returns, every fork and exit that happened before the call has been
//    handled.
//  - Deliveries never overlap: the background thread, drain() and pause()
//    share one lock, so a caller holding pause() knows no event is handled
//    meanwhile (events queue up in the socket).
//  - When the socket overflowed (ENOBUFS), handler.lost() runs under that
//    lock before any later event: the handler rebuilds its view there, and
//    drain() returns only after it has.
//  - `watched` (optional) is an fd whose readiness the handler wants to hear
//    of (the tracker's epoll set of pidfds): handler.watched_ready() runs
//    after every drain, and when it turns readable, always after the queue
//    has been read, so a process's forks are handled before its end.
//  - Errors fail closed, never silently. poll() failing with EINTR is
//    retried; any other poll error is logged and treated as lost events
//    (handler.lost(): the view is rebuilt from /proc), then polling goes on;
//    after kMaxPollFailures failures in a row the thread ends (logged), and
//    events are delivered only by drain(), which every decision calls (an
//    overflow meanwhile is reported as lost there). A delivery cut short by
//    an exception (thrown by the handler) leaves a rescan due: the next
//    delivery calls handler.lost() first. An exception on the thread is
//    caught at its entry, logged, and ends the thread the same way.
//
// The delivery lock (read_mu_) is a std::mutex because pause() hands it out
// as a std::unique_lock<std::mutex> through core/enforcement.h's seam; the
// one member it guards (rescan_) is checked by hand, not by Clang.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace syscg::enforcer {

class ProcEventHandler {
 public:
  virtual ~ProcEventHandler() = default;
  // A new process (not a thread); `when_ns` is CLOCK_MONOTONIC at the fork.
  virtual void forked(Pid parent_tgid, Pid child_tgid, std::uint64_t when_ns) = 0;
  // A new thread of process `tgid`; a process replaced its program. Only
  // for handlers that count them (default: ignored).
  virtual void thread_forked(Pid /*tid*/, Pid /*tgid*/) {}
  virtual void execed(Pid /*tgid*/) {}
  // A thread ended (the leader's thread too: its process may live on).
  virtual void exited(Pid tid, Pid tgid) = 0;
  virtual void lost() = 0;  // events were dropped
  // Takes what is ready on the watched fd, then calls `drain` (every event
  // queued so far is delivered), then handles it.
  virtual void watched_ready(const std::function<void()>& drain) = 0;
};

class ProcEvents {
 public:
  static constexpr int kMaxPollFailures = 3;
  // Errors (with errno): permission (needs CAP_NET_ADMIN), invalid (no
  // connector), io (eventfd, setsockopt...). Nothing is started then.
  static Result<std::unique_ptr<ProcEvents>> start(ProcEventHandler& handler, sys::Log& log, int watched = -1);
  ProcEvents(const ProcEvents&) = delete;
  ProcEvents& operator=(const ProcEvents&) = delete;
  ~ProcEvents();

  void drain();
  // No delivery while the returned lock is held. Never call drain() with it.
  std::unique_lock<std::mutex> pause() { return std::unique_lock(read_mu_); }

 private:
  ProcEvents(sys::UniqueFd fd, sys::UniqueFd stop_fd, int watched, ProcEventHandler& handler, sys::Log& log);
  void run();  // the thread's entry: catches everything
  void poll_loop();
  // rescan: handler.lost() before the queue (a poll error).
  void read_available(bool rescan = false);
  void drain_queue();  // read_mu_ held

  sys::UniqueFd fd_;
  sys::UniqueFd stop_fd_;  // eventfd that ends run()
  int watched_;            // not owned; -1: none
  ProcEventHandler& handler_;
  sys::Log& log_;
  std::mutex read_mu_;   // one reader at a time keeps events in order
  bool rescan_ = false;  // guarded by read_mu_: a delivery was cut short
  std::thread thread_;
};

}  // namespace syscg::enforcer
