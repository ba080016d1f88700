// Work the tracer thread finishes later, owned by the Tracer (one per
// tracer thread; no thread-locals):
//  - detaches: a thread whose stop never came (a vfork parent, a task in
//    uninterruptible sleep) cannot be detached yet (the kernel detaches
//    only stopped tracees), and a killed one must be seen dying before its
//    parent can reap it; both are let go once their stop or death arrives.
//  - deferred injections: a tightening whose target did not stop in time.
//    Every thread is blocked in the kernel and stops before its next user
//    instruction; the first to stop installs the filter for all (TSYNC
//    reaches blocked threads too), so deferring leaves no window.
#pragma once

#include "enforcer/inject/target.h"
#include "enforcer/sys/log.h"

#include <list>
#include <vector>

namespace syscg::enforcer::inject {

class Pending {
 public:
  Pending() = default;
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;

  // Detach `tid` once it stops, or forget it once it exits.
  void detach_later(pid_t tid) { detaches_.push_back(tid); }
  // Install `program` (TSYNC) from the first of `threads` to stop.
  void defer(Threads threads, Program program);

  // Without blocking: installs deferred filters whose thread stopped (one
  // that fails is killed, and logged), lets go of the threads that stopped
  // or exited. True while anything remains.
  bool finish(sys::Log& log);

  // Lets go of everything now (the tracer thread ends): a target whose
  // filter is still deferred is killed (its tightening was acknowledged) and
  // logged; a thread still running stays traced until the daemon exits.
  void drop(sys::Log& log);

  std::size_t deferred() const { return deferred_.size(); }
  std::size_t detaches() const { return detaches_.size(); }

 private:
  bool finish_detaches();
  struct Deferred {
    Threads threads;
    Program program;
  };
  std::vector<pid_t> detaches_;
  std::list<Deferred> deferred_;
};

}  // namespace syscg::enforcer::inject
