// The supervisor: answers the seccomp user notifications that members'
// supervised filters raise for the numbers they route to it (see
// enforcer.h), so that an allow can give a running member back a call that
// an earlier deny took away.
//
// Contract:
//  - One thread; it waits on every listener at once (epoll) and answers
//    each notification with CONTINUE (the call runs) or EPERM, as `decide`
//    says. `decide` runs on that thread, with `barrier` held shared until
//    the answer is sent: whoever takes it exclusively (a policy change)
//    waits for the answers in flight, and every later answer sees the
//    change.
//  - A listener whose filter has no task left (all its processes exited)
//    is closed.
//  - Fail closed: when the supervisor ends (destructor, or the daemon dies)
//    the listeners close, and the kernel fails every routed call with
//    ENOSYS from then on. Nothing routed ever runs unanswered.
#pragma once

#include "core/error.h"
#include "enforcer/sys/unique_fd.h"

#include <cstdint>
#include <functional>
#include <linux/seccomp.h>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sys/types.h>
#include <thread>

namespace syscg::enforcer {

class Supervisor {
 public:
  // tid: the thread making the call (in the daemon's pid namespace; 0 if it
  // is not visible there); nr: the x86_64 syscall number. True lets it run.
  using Decide = std::function<bool(pid_t tid, unsigned nr)>;

  Supervisor(Decide decide, std::shared_mutex& barrier);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();

  // Starts the thread (after the daemon forked; threads do not survive it).
  Status start();
  // Takes a listener; its notifications are answered from now on. Errors:
  // io when the supervisor is not running (the listener is then closed, and
  // what it routes fails with ENOSYS).
  Status add(sys::UniqueFd listener);

 private:
  void run();
  void serve(int fd);

  Decide decide_;
  std::shared_mutex& barrier_;
  sys::UniqueFd epoll_;
  sys::UniqueFd wake_;  // eventfd: ends the thread
  mutable std::mutex mu_;
  std::map<int, sys::UniqueFd> listeners_;
  std::thread thread_;
};

// Receives one notification from `listener` and answers it: CONTINUE when
// allow(request) says so, else EPERM. False when there was none (the
// caller was interrupted or died meanwhile: ENOENT).
bool answer_one(int listener, const std::function<bool(const seccomp_notif&)>& allow);

}  // namespace syscg::enforcer
