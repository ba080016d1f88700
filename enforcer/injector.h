// Making a running process install a seccomp filter on itself, by ptrace
// syscall injection. Only a task can install a filter on itself, so the
// target executes, through one of its own `syscall` instructions:
//   prctl(PR_SET_NO_NEW_PRIVS, 1)
//   seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)
// and is then restored exactly: registers, signal mask, the stack bytes the
// program was staged in. A supervised filter (one that routes numbers to
// USER_NOTIF) is installed with NEW_LISTENER | TSYNC | TSYNC_ESRCH while
// every thread of the target is stopped, by a short-lived thread with a
// private fd table (inject/install.h); the daemon takes the listener with
// pidfd_getfd and that thread exits, so no process but the daemon ever
// holds it.
//
// The parts (enforcer/inject/): target.h, the seam (Target, Thread) the
// strategy talks to; strategy.h, the per-process strategy; install.h, the
// sequences run in one stopped thread; seized.h and proc_target.h, the real
// ptrace and /proc implementation; ptrace_sys.h, the checked system calls;
// pending.h, detaches and deferred injections the tracer finishes later.
//
// Contract:
//  - Every function here must run on the one tracer thread (ptrace requests
//    belong to the thread that attached), with that thread's Pending; see
//    tracer.h.
//  - While registers point at injected code, PTRACE_O_EXITKILL is on: if the
//    daemon dies mid-injection the half-injected target is killed, never left
//    corrupted. Outside that window it is off, so a daemon crash leaves
//    members running and filtered.
#pragma once

#include "core/error.h"
#include "enforcer/inject/pending.h"
#include "enforcer/inject/strategy.h"
#include "enforcer/memory_sharing.h"
#include "enforcer/sys/unique_fd.h"

#include <functional>
#include <optional>
#include <vector>

namespace syscg::enforcer {

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
// stop (`pending`) and the call succeeds; without, it fails with limit
// (EAGAIN).
//
// With `supervised` (the same verdicts as `program`, but routing its denied
// numbers to USER_NOTIF), every thread is stopped and the supervised filter
// goes in with a listener. Where that is impossible the plain `program` goes
// in and Injection::why says why (NoListener); `sharing` says whether the
// process shares its memory with another (memory_sharing.h).
//
// Every thread of the process is seized and interrupted (only the writer,
// for a self-move); the first to stop runs the injection, so a leader
// blocked in vfork or a zombie leader does not keep the others unfiltered.
// `pin`, when valid, is the pidfd of the process identified earlier: if it
// has ended by the time a thread is stopped, the number may name another
// process, and the call fails with no_process without touching anything.
// With `probe_io_uring`, every thread is stopped and asked whether it has
// an io_uring context before anything is installed: if one has, or a
// thread cannot be stopped, the call fails with busy (resp. limit) and
// nothing is installed.
Result<Injection> inject_process(pid_t tgid, const Program& program, const Program* supervised,
                                 std::optional<pid_t> self_writer, Deadline deadline,
                                 const std::function<void(const Status&)>& after_interrupt, bool defer,
                                 const sys::UniqueFd& pin, inject::Pending& pending, MemorySharing& sharing,
                                 bool probe_io_uring = false);

// The seccomp filters of thread `tid`, oldest first: seized, stopped by the
// deadline, read (PTRACE_SECCOMP_GET_FILTER), let go. Errors: no_process,
// busy (another tracer), limit (it did not stop), permission.
Result<std::vector<Program>> read_filters(pid_t tid, Deadline deadline, inject::Pending& pending);

}  // namespace syscg::enforcer
