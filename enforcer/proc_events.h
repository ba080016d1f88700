// Fork and exit events from the kernel's process-events connector (netlink,
// NETLINK_CONNECTOR / CN_IDX_PROC). It reports every new process, also those
// created with CLONE_UNTRACED, which ptrace's fork tracing misses, without
// polling and without staying attached to anything.
//
// A background thread delivers events to the handler; drain() delivers what
// the kernel has queued so far on the calling thread, so a caller can be sure
// it has seen every fork that happened before the call. Events arrive in
// order per socket; when the socket overflowed (ENOBUFS) the handler's
// lost() is called and the owner must rescan /proc.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"

#include <atomic>
#include <mutex>
#include <thread>

namespace syscg::enforcer {

class ProcEventHandler {
 public:
  virtual ~ProcEventHandler() = default;
  virtual void forked(Pid parent_tgid, Pid child_tgid) = 0;  // a new process
  virtual void exited(Pid tgid) = 0;                         // a process ended
  virtual void lost() = 0;                                   // events were dropped
};

class ProcEvents {
 public:
  // Errors: permission (needs CAP_NET_ADMIN), invalid (no connector).
  static Result<std::unique_ptr<ProcEvents>> start(ProcEventHandler& handler);
  ProcEvents(const ProcEvents&) = delete;
  ProcEvents& operator=(const ProcEvents&) = delete;
  ~ProcEvents();

  void drain();

 private:
  ProcEvents(int fd, int stop_fd, ProcEventHandler& handler);
  void run();
  void read_available();

  int fd_;
  int stop_fd_;  // eventfd that ends run()
  ProcEventHandler& handler_;
  std::mutex read_mu_;  // one reader at a time keeps events in order
  std::thread thread_;
};

}  // namespace syscg::enforcer
