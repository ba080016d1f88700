// Making a running process install a seccomp filter on itself, by ptrace
// syscall injection. Only a task can install a filter on itself, so the
// target executes, through one of its own `syscall` instructions:
//   prctl(PR_SET_NO_NEW_PRIVS, 1)
//   seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)
// and is then restored exactly: registers, signal mask, the stack bytes the
// program was staged in. A supervised filter (one that routes numbers to
// USER_NOTIF) is installed with NEW_LISTENER | TSYNC | TSYNC_ESRCH while
// every thread of the target is stopped; the daemon takes the listener with
// pidfd_getfd and the target then executes close() on its copy, so no
// process but the daemon ever holds it.
//
// Contract:
//  - Every function here must run on the one tracer thread (ptrace requests
//    belong to the thread that attached); see tracer.h.
//  - A Seized is an RAII attachment: its destructor detaches, delivering a
//    signal the stop swallowed, if any.
//  - While registers point at injected code, PTRACE_O_EXITKILL is on: if the
//    daemon dies mid-injection the half-injected target is killed, never left
//    corrupted. Outside that window it is off, so a daemon crash leaves
//    members running and filtered.
//  - Injected calls carry orig_rax = -1 so the kernel's restart logic never
//    rewinds them; the interrupted call restarts normally once the saved
//    registers are back (the stop is on the signal path).
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "enforcer/sys/unique_fd.h"

#include <linux/filter.h>
#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace syscg::enforcer {

using Program = std::vector<sock_filter>;
using Deadline = std::chrono::steady_clock::time_point;

class Seized {
 public:
  // PTRACE_SEIZE. Errors: no_process (ESRCH); busy (EBUSY) when another
  // tracer holds it; permission otherwise.
  static Result<Seized> seize(pid_t tid);
  Seized(Seized&& o) noexcept;
  Seized& operator=(Seized&&) = delete;
  Seized(const Seized&) = delete;
  ~Seized();

  pid_t tid() const { return tid_; }
  Status interrupt();
  // Waits for the stop the interrupt asked for. Errors: limit (EAGAIN) past
  // the deadline; no_process if the thread exited.
  Status wait_stop(Deadline deadline);
  // Non-blocking: true once the stop has arrived. Errors: no_process.
  Result<bool> poll_stop();
  struct Installed {
    // seccomp()'s result: 0; with TSYNC the id of a thread whose filters
    // diverge (> 0); with a listener -ESRCH (diverging threads), -EBUSY
    // (the chain holds a listener already) or -EINVAL (a kernel older than
    // 5.7, without TSYNC_ESRCH). Other failures are errors.
    long rc = 0;
    sys::UniqueFd listener;  // the daemon's copy, when one was asked for and taken
  };
  // Runs the injection in the stopped thread. With `listener_of` (the
  // target's process id), asks for a listener (TSYNC must be true and every
  // other thread of the process stopped), takes it into the daemon and
  // closes it in the target; if that close fails the target is killed (it
  // must never keep the listener). An empty program sets no_new_privs only.
  Result<Installed> install(const Program& program, bool tsync, pid_t listener_of = 0);
  // Whether the (stopped) thread has an io_uring context: it has used
  // io_uring, and may keep rings alive that no fd or mapping shows
  // (registered ring fds). Injects one io_uring_register probe.
  Result<bool> uses_io_uring();
  // The thread's seccomp filters, oldest first (PTRACE_SECCOMP_GET_FILTER;
  // the thread must be stopped). Errors: permission, no_process.
  Result<std::vector<Program>> filters();
  // Fail closed: SIGKILL; its death is collected by finish_detaches (its
  // parent can reap it only once its tracer has seen it die).
  void kill_and_reap();

 private:
  explicit Seized(pid_t tid) : tid_(tid) {}
  // With `serve` (a listener of the filter just installed), a notification
  // the call raises meanwhile is answered: CONTINUE exactly for this
  // thread's `nr` with `a0`, EPERM otherwise.
  Result<long> call(const user_regs_struct& base, std::uint64_t gadget, long nr, std::uint64_t a0,
                    std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0, int serve = -1);
  Result<std::uint64_t> find_gadget(const user_regs_struct& regs);
  // Runs `body(saved registers, gadget, scratch)` with signals held,
  // EXITKILL on, and `image` staged at `scratch` below the red zone; then
  // restores registers, mask and memory exactly (a target that cannot be
  // restored is killed).
  template <class T>
  Result<T> in_window(std::span<const unsigned char> image,
                      const std::function<Result<T>(const user_regs_struct&, std::uint64_t, std::uint64_t)>& body);


  pid_t tid_;
  int pending_signal_ = 0;  // a signal-delivery-stop's signal, re-sent at detach
  bool stopped_ = false;
};

// A thread whose stop never came (a vfork parent, a task in uninterruptible
// sleep) cannot be detached yet: the kernel detaches only stopped tracees,
// and the pending interrupt will stop it later. Seized's destructor then
// leaves it on this thread's list of pending detaches (the tracer thread's
// own state); finish_detaches() lets go of those that stopped or exited,
// without blocking, and answers whether any remain.
//
// A tightening whose target does not stop in time is deferred the same way:
// the target is blocked in the kernel and stops before its next user-space
// instruction, so installing the filter at that stop leaves no window.
bool finish_detaches();

// Installs `program` in every thread of process `tgid`: TSYNC from one
// thread, or, when the threads' filters diverge, one thread at a time.
// `after_interrupt` runs once, with the outcome of seize + PTRACE_INTERRUPT,
// before the wait for the stop. For a self-move (`self_writer` is the thread
// whose write to cgroup.procs is pending) it lets the FUSE reply go out at
// the only safe moment: the writer cannot stop until its write is answered,
// and a reply sent before the interrupt would let it run unfiltered.
// Injection::unfiltered receives the children the process had forked before
// the filter reached it: they do not inherit it. With `defer`, a target
// that does not stop by the deadline gets the plain filter when it does
// stop (see finish_detaches) and the call succeeds; without, it fails with
// limit (EAGAIN).
//
// With `supervised` (the same verdicts as `program`, but routing its denied
// numbers to USER_NOTIF), every thread is stopped and the supervised filter
// goes in with a listener. Where that is impossible the plain `program` goes
// in and Injection::why says why: the chain holds a listener already (the
// process brought its own; one per chain), the threads' filters diverge
// (TSYNC cannot give them one filter), or a thread could not be stopped (it
// could fork while the listener sits in the fd table).
// Also: the fd table is shared with another process (clone(CLONE_FILES)),
// which could take the listener; the kernel cannot combine a listener with
// TSYNC (before 5.7).
enum class NoListener : std::uint8_t {
  none,
  own_listener,
  threads_diverged,
  not_stopped,
  shared_files,
  unsupported,
  refused,  // the chain forbids new listeners: a supervised filter of a previous daemon
  lost
};

struct Injection {
  std::vector<pid_t> unfiltered;  // children forked before the filter reached their parent
  sys::UniqueFd listener;              // the supervised filter's listener
  NoListener why = NoListener::none;
};

// Every thread of the process is seized and interrupted (only the writer,
// for a self-move); the first to stop runs the injection, so a leader
// blocked in vfork or a zombie leader does not keep the others unfiltered.
// `pin`, when valid, is the pidfd of the process identified earlier: if it
// has ended by the time a thread is stopped, the number may name another
// process, and the call fails with no_process without touching anything.
// With `defer`, a process none of whose threads stops in time gets the
// plain filter from the first thread that stops, before any of them runs
// user code again. With `probe_io_uring`, every thread is stopped and asked
// whether it has an io_uring context (Seized::uses_io_uring) before anything
// is installed: if one has, or a thread cannot be stopped, the call fails
// with busy (resp. limit) and nothing is installed.
Result<Injection> inject_process(pid_t tgid, const Program& program, const Program* supervised,
                                 std::optional<pid_t> self_writer, Deadline deadline,
                                 const std::function<void(const Status&)>& after_interrupt, bool defer,
                                 const sys::UniqueFd& pin, bool probe_io_uring = false);

}  // namespace syscg::enforcer
