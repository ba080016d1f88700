// What runs inside one stopped thread: installing a filter (with or without
// a listener) and the io_uring probe, as sequences of remote calls on an
// inject::Thread. No system call of its own: everything goes through the
// Thread, so the unit tests script each answer.
//
// Contract:
//  - The thread is stopped; it is restored exactly afterwards (registers,
//    signal mask, stack bytes), or killed when it cannot be.
//  - A listener is never created in the process's own fd table, which
//    another process may share (clone(CLONE_FILES)): a short-lived private
//    thread (Thread::spawn_private) installs the filter, and the listener
//    leaves with that thread's exit; when the exit fails (or is faked), the
//    process is killed.
#pragma once

#include "enforcer/inject/target.h"

namespace syscg::enforcer::inject {

struct Installed {
  // seccomp()'s result: 0; with TSYNC the id of a thread whose filters
  // diverge (> 0); with a listener -ESRCH (diverging threads), -EBUSY (the
  // chain holds a listener already), -EINVAL (a kernel older than 5.7,
  // without TSYNC_ESRCH) or -EPERM (dumpable could not be turned off).
  // Other failures are errors.
  long rc = 0;
  sys::UniqueFd listener;  // the daemon's copy, when one was asked for and taken
  // With a listener: the private thread could not be made (rc is then the
  // clone's -errno; a kernel without PIDFD_THREAD is rc -EINVAL, false).
  bool no_thread = false;
};

// prctl(PR_SET_NO_NEW_PRIVS, 1) then seccomp(SET_MODE_FILTER, flags,
// program) in `thread`, the kernel's chain read back to check it holds
// `program`. With `listener_of` (the target's process id): from a private
// thread, NEW_LISTENER | TSYNC | TSYNC_ESRCH, the listener taken into the
// daemon and the thread ended (the process killed when that fails:
// Errc::permission). An empty program sets no_new_privs only.
Result<Installed> install(Thread& thread, const Program& program, bool tsync, pid_t listener_of = 0);

// Whether the (stopped) thread has an io_uring context (one probe
// io_uring_register); a filter of its own that does not simply allow the
// probe counts as one.
Result<bool> uses_io_uring(Thread& thread);

}  // namespace syscg::enforcer::inject
