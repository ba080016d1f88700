// The seam between the injection strategy and the system: what the strategy
// (strategy.h), the install sequence (install.h) and the deferred work
// (pending.h) ask of a target process and of its seized threads. The real
// implementation is ptrace (seized.h, proc_target.h); the unit tests drive
// every fallback with a fake (tests/enforcer/inject/fake_target.h).
//
// Contract:
//  - Everything runs on the one tracer thread (tracer.h).
//  - Destroying a Thread lets the thread go: detached now when it is
//    stopped, else as soon as its stop arrives (Pending).
//  - The remote-call primitives (open_window .. close_window) need the
//    thread stopped; between open_window and close_window the thread is
//    killed if the daemon dies (EXITKILL), and outside it never is.
#pragma once

#include "core/error.h"
#include "enforcer/procfs.h"
#include "enforcer/sys/unique_fd.h"

#include <linux/filter.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace syscg::enforcer {

using Program = std::vector<sock_filter>;
using Deadline = std::chrono::steady_clock::time_point;

namespace inject {

// One seized thread.
class Thread {
 public:
  virtual ~Thread() = default;
  virtual pid_t tid() const = 0;
  // False once the thread exited or was killed: nothing left to restore.
  virtual bool attached() const = 0;

  // PTRACE_INTERRUPT. Errors: no_process.
  virtual Status interrupt() = 0;
  // Non-blocking: true once the stop arrived. Errors: no_process (exited).
  virtual Result<bool> poll_stop() = 0;
  // Until the stop arrives. Errors: limit past the deadline, no_process.
  virtual Status wait_stop(Deadline deadline) = 0;

  // The thread's seccomp state from the kernel (/proc). Errors: no_process.
  virtual Result<SeccompState> seccomp_state() = 0;
  // Its filters, oldest first; filter(i) is the i-th (the kernel's
  // numbering). Errors: permission, no_process.
  virtual Result<std::vector<Program>> filters() = 0;
  virtual Result<Program> filter(unsigned index) = 0;

  // Opens the injection window: saves registers, signal mask and the stack
  // bytes `image` will cover, turns EXITKILL on, holds every signal, and
  // stages `image` below the red zone; returns its address. On failure
  // nothing stays changed.
  virtual Result<std::uint64_t> open_window(std::span<const unsigned char> image) = 0;
  // Writes into the target's memory (inside the window).
  virtual Status write(std::uint64_t addr, const void* data, std::size_t len) = 0;
  // Runs system call `nr` in the thread; its return value (-errno on
  // failure). With `serve` (a listener of a filter just installed), a
  // notification the call raises is answered (CONTINUE for exactly this
  // call). Errors: the call could not run (no_process; limit when it never
  // returned: the thread is then killed).
  virtual Result<long> call(long nr, std::uint64_t a0, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0,
                            int serve = -1) = 0;
  // Puts back registers, mask and memory saved by open_window.
  virtual Status restore() = 0;
  // Turns EXITKILL off again (the window is closed).
  virtual Status close_window() = 0;

  // Inside the window: clone()s a thread of the same process that shares
  // everything but the fd table, of which it gets a private copy (no
  // CLONE_FILES), traced from birth (CLONE_PTRACE) and stopped before its
  // first instruction (see Spawned); `tgid` is the process. Errors: the
  // clone could not run, or answered a thread id that is not a new thread
  // of `tgid` (a listener of the member's own can fake the answer).
  virtual Result<struct Spawned> spawn_private(pid_t tgid) = 0;
  // A copy of the thread's fd `fd`, taken through a pidfd of this thread
  // alone (PIDFD_THREAD); invalid when it cannot be taken.
  virtual sys::UniqueFd take_fd(int fd) = 0;

  // Fail closed: SIGKILL; its death is collected later (Pending).
  virtual void kill() = 0;
};

using ThreadPtr = std::unique_ptr<Thread>;
using Threads = std::list<ThreadPtr>;

// spawn_private()'s outcome: the new thread, or no thread and the clone's
// -errno (refused: a filter of the member's own, RLIMIT_NPROC, pids.max),
// or -EINVAL for a kernel without PIDFD_THREAD (Linux 6.9), where nothing
// could be taken from the new thread's table. The new thread is never let
// go: unless it exited, destroying it kills the process (it would run the
// process's code from the injected call on a borrowed stack).
struct Spawned {
  long rc = 0;
  ThreadPtr thread;
};

// The process being injected, as a whole.
class Target {
 public:
  virtual ~Target() = default;
  virtual pid_t tgid() const = 0;
  // Its threads now (/proc/TGID/task).
  virtual std::vector<pid_t> threads() = 0;
  // PTRACE_SEIZE. Errors: no_process (gone or exiting), busy (traced by
  // another tracer), permission.
  virtual Result<ThreadPtr> seize(pid_t tid) = 0;
  // Whether `tid` is (still) one of its threads.
  virtual bool in_group(pid_t tid) = 0;
  // The length of thread `tid`'s filter chain; nullopt when unreadable.
  virtual std::optional<unsigned> chain_length(pid_t tid) = 0;
  // Its children (every thread's).
  virtual std::set<pid_t> children() = 0;
  // Whether another process shares its memory, or that cannot be told
  // (memory_sharing.h); asked with every thread stopped.
  virtual bool shares_memory() = 0;
  // Whether the process is in the daemon's own user namespace. Where it is
  // not, the namespace's owner (an unprivileged uid), or its root, holds
  // CAP_SYS_PTRACE over its memory: non-dumpable or not, such a process
  // may pidfd_getfd the listener from the private thread (install.cc).
  virtual bool in_our_user_namespace() = 0;
  // Whether the process identified earlier (the pin) has ended: its number
  // may then name another process.
  virtual bool ended() = 0;
  // Between two polls for stops (see proc_target.cc).
  virtual void pause() = 0;
};

}  // namespace inject
}  // namespace syscg::enforcer
