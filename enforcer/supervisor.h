// The supervisor: answers the seccomp user notifications that members'
// supervised filters raise for the numbers they route to it (see
// enforcer.h), so that an allow can give a running member back a call that
// an earlier deny took away.
//
// Contract:
//  - One thread; it waits on every listener at once (epoll) and answers
//    each notification with CONTINUE (the call runs) or EPERM, as `decide`
//    says. `decide` runs on that thread.
//  - A listener whose filter has no task left (all its processes exited)
//    is closed.
//  - Fail closed: when the supervisor ends (destructor, or the daemon dies)
//    the listeners close, and the kernel fails every routed call with
//    ENOSYS from then on. Nothing routed ever runs unanswered.
#pragma once

#include "core/error.h"
#include "enforcer/unique_fd.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <sys/types.h>
#include <thread>

namespace syscg::enforcer {

class Supervisor {
 public:
  // tid: the thread making the call (in the daemon's pid namespace; 0 if it
  // is not visible there); nr: the x86_64 syscall number. True lets it run.
  using Decide = std::function<bool(pid_t tid, unsigned nr)>;

  explicit Supervisor(Decide decide);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();

  // Starts the thread (after the daemon forked; threads do not survive it).
  Status start();
  // Takes a listener; its notifications are answered from now on.
  Status add(UniqueFd listener);
  // Listeners still open (test and benchmark introspection).
  std::size_t listeners() const;

 private:
  void run();
  void serve(int fd);

  Decide decide_;
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: ends the thread
  mutable std::mutex mu_;
  std::map<int, UniqueFd> listeners_;
  std::thread thread_;
};

}  // namespace syscg::enforcer
