// The supervisor: answers the seccomp user notifications that members'
// supervised filters raise for the numbers they route to it (see
// enforcer.h), so that an allow can give a running member back a call that
// an earlier deny took away.
//
// Contract:
//  - One thread; it waits on every listener at once (epoll) and answers
//    each notification with CONTINUE (the call runs) or EPERM, as `decide`
//    says. Every listener is set to SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
//    when added (Linux >= 6.6; where the kernel refuses it, one notice is
//    logged and the listener is served all the same). `decide` runs on that thread, with `barrier` held shared until
//    the answer is sent: whoever takes it exclusively (a policy change)
//    waits for the answers in flight, and every later answer sees the
//    change.
//  - A listener whose filter has no task left (all its processes exited)
//    is closed.
//  - Fail closed: when the supervisor ends (destructor, an epoll_wait
//    error other than EINTR, or an exception escaping `decide`: logged) its
//    listeners are closed at once and add() refuses new ones, so the kernel
//    fails every routed call with ENOSYS from then on. Nothing routed ever
//    runs unanswered, and no member waits on an answer that will not come.
//  - A controlled restart: pause() ends the thread between two answers and
//    keeps the listeners (routed calls wait in the kernel meanwhile);
//    held() dups them, with the process each was taken from, for the
//    successor; resume() serves them again (the successor failed).
//  - An answer the kernel refuses (SECCOMP_IOCTL_NOTIF_SEND) other than
//    with ENOENT (the caller was interrupted: it asks again) is logged; an
//    allow that failed is retried as a deny.
//
// Locks: mu_ is a leaf; `barrier` (the Enforcer's decide_mu_) is taken
// shared by the thread around each decision, never with mu_ held.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <linux/seccomp.h>
#include <map>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace syscg::enforcer {

// The sizes of the kernel's notification structures (SECCOMP_GET_NOTIF_SIZES;
// they may be larger than our headers'), at least our headers' sizes.
struct NotifSizes {
  std::size_t notif;
  std::size_t resp;
};
NotifSizes notif_sizes();

class Supervisor {
 public:
  // tid: the thread making the call (in the daemon's pid namespace; 0 if it
  // is not visible there); nr: the x86_64 syscall number. 0 lets it run,
  // anything else is the errno it fails with.
  using Decide = std::function<int(pid_t tid, unsigned nr)>;

  Supervisor(sys::Log& log, Decide decide, SharedMutex& barrier);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();
  // Ends the thread (if started) and closes every listener: routed calls
  // then fail with ENOSYS. Idempotent.
  void stop();

  // Starts the thread (after the daemon forked; threads do not survive it).
  // Errors (with errno): epoll_create1, eventfd, epoll_ctl.
  Status start() SYSCG_EXCLUDES(mu_);
  // Takes a listener, made by process `owner` (0: unknown); its
  // notifications are answered from now on. Errors: io when the supervisor
  // is not running (the listener is then closed, and what it routes fails
  // with ENOSYS).
  Status add(sys::UniqueFd listener, Pid owner = 0) SYSCG_EXCLUDES(mu_);

  // A listener and the process that made it.
  struct Held {
    Pid owner;
    sys::UniqueFd fd;
  };
  // Ends the thread once the answer in flight is sent, keeping every
  // listener; add() refuses new ones until resume(). Idempotent.
  void pause() SYSCG_EXCLUDES(mu_);
  // Copies (dup) of every listener, in no particular order. Errors: io
  // (dup failed: EMFILE).
  Result<std::vector<Held>> held() const SYSCG_EXCLUDES(mu_);
  // Serves the listeners again after pause(). Errors: io (no thread).
  Status resume() SYSCG_EXCLUDES(mu_);

 private:
  void run();
  void serve_events();
  void serve(int fd);
  // Closes every listener and refuses new ones (fail closed).
  void close_all() SYSCG_EXCLUDES(mu_);

  sys::Log& log_;
  Decide decide_;
  SharedMutex& barrier_;
  sys::UniqueFd epoll_;  // set by start(), before the thread exists
  sys::UniqueFd wake_;   // eventfd: ends the thread
  NotifSizes sizes_{};   // set by start(), before the thread exists
  // The thread's receive and answer buffers (sized by start()).
  std::vector<unsigned char> req_buf_, resp_buf_;
  mutable Mutex mu_;
  bool running_ SYSCG_GUARDED_BY(mu_) = false;
  bool sync_wake_logged_ SYSCG_GUARDED_BY(mu_) = false;
  std::map<int, Held> listeners_ SYSCG_GUARDED_BY(mu_);
  std::thread thread_;
};

// Asks the kernel (Linux >= 6.6) to wake whoever waits on `listener` on the
// waking CPU (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP). Errors (errno kept):
// EINVAL/ENOTTY on older kernels, EBADF/EINVAL on a fd that is no listener.
Status set_sync_wake_up(int listener);

// Receives one notification from `listener` and answers it: CONTINUE when
// allow(request) says so, else EPERM. False when there was none (the
// caller was interrupted or died meanwhile: ENOENT). (The injector's API:
// an answer the kernel refuses is not reported; see answer().)
bool answer_one(int listener, const std::function<bool(const seccomp_notif&)>& allow);

// As answer_one, and an answer the kernel refused with anything but ENOENT
// is an error (errno kept); a refused CONTINUE is retried as EPERM first.
// Value: whether a notification was received.
Result<bool> answer(int listener, const NotifSizes& sizes, const std::function<bool(const seccomp_notif&)>& allow);

}  // namespace syscg::enforcer
