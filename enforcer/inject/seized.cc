#include "enforcer/inject/seized.h"

#include "enforcer/inject/ptrace_sys.h"
#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"
#include "enforcer/supervisor.h"
#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

namespace syscg::enforcer::inject {
namespace {

void* as_data(long v) { return reinterpret_cast<void*>(v); }

}  // namespace

Result<std::unique_ptr<Seized>> Seized::seize(pid_t tid, Pending& pending) {
  if (auto s = ptrace_do(PTRACE_SEIZE, tid, nullptr, nullptr, "PTRACE_SEIZE"); !s) {
    const int err = s.error().sys_errno;
    // EPERM for a task that is already exiting: for us it is simply gone.
    if (err == ESRCH || (err == EPERM && [&] {
          const auto st = read_stat(tid);
          return !st || st.value().exiting();
        }()))
      return sys::sys_error(Errc::no_process, fmt::format("seize {} (exiting)", tid), err);
    if (err == EPERM) {
      if (const auto tracer = read_tracer(tid); tracer && tracer.value() != 0)
        return sys::sys_error(Errc::busy, fmt::format("seize {}: already traced by {}", tid, tracer.value()), err);
    }
    // Anything else (EPERM: the daemon itself, a kernel thread) is refused.
    return sys::sys_error(Errc::permission, fmt::format("seize {}", tid), err);
  }
  return std::unique_ptr<Seized>(new Seized(tid, pending));
}

Seized::~Seized() {
  if (tid_ <= 0) return;
  if (owned_) {
    kill();  // never let go: see Spawned
    return;
  }
  if (stopped_) {
    // A tracee killed meanwhile cannot be detached: reap it later.
    if (!detach(tid_, pending_signal_)) pending_.detach_later(tid_);
    return;
  }
  // Not stopped: PTRACE_DETACH would fail. Detach once the stop arrives.
  auto r = poll_wait(tid_);
  if (!r) return;  // not ours any more
  if (!r.value())
    pending_.detach_later(tid_);
  else if (WIFSTOPPED(*r.value()))
    (void)detach(tid_, stop_signal(*r.value()));  // fails only if it died: gone
}

Error Seized::gone(std::string what) {
  tid_ = -1;
  return make_error(Errc::no_process, std::move(what));
}

void Seized::saw_stop(int status) {
  stopped_ = true;
  if (const int sig = stop_signal(status)) pending_signal_ = sig;
}

Status Seized::interrupt() { return ptrace_do(PTRACE_INTERRUPT, tid_, nullptr, nullptr, "PTRACE_INTERRUPT"); }

Result<bool> Seized::poll_stop() {
  if (stopped_) return true;
  auto r = poll_wait(tid_);
  if (r && !r.value()) return false;
  if (r && WIFSTOPPED(*r.value())) {
    saw_stop(*r.value());
    return true;
  }
  return gone(fmt::format("thread {} exited", tid_));  // exited, or no longer ours: nothing to detach
}

Status Seized::wait_stop(Deadline deadline) {
  Backoff backoff;  // no timed wait for a ptrace stop exists: see ptrace_sys.cc
  while (!stopped_) {
    BOOST_OUTCOME_TRY(status, poll_wait(tid_));
    if (status && (WIFEXITED(*status) || WIFSIGNALED(*status))) return gone(fmt::format("thread {} exited", tid_));
    if (status && WIFSTOPPED(*status)) {
      saw_stop(*status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(Errc::limit, fmt::format("thread {} did not stop in time", tid_));
    backoff.pause();
  }
  return outcome::success();
}

Result<SeccompState> Seized::seccomp_state() { return read_seccomp(tid_); }

Result<Program> Seized::filter(unsigned index) {
  void* at = as_data(static_cast<long>(index));
  BOOST_OUTCOME_TRY(n, ptrace_value(PTRACE_SECCOMP_GET_FILTER, tid_, at, nullptr, "PTRACE_SECCOMP_GET_FILTER"));
  Program p(static_cast<std::size_t>(n));
  BOOST_OUTCOME_TRY(again, ptrace_value(PTRACE_SECCOMP_GET_FILTER, tid_, at, p.data(), "PTRACE_SECCOMP_GET_FILTER"));
  if (again != n) return make_error(Errc::permission, fmt::format("filter {} of {} changed while read", index, tid_));
  return p;
}

Result<std::vector<Program>> Seized::filters() {
  // The kernel numbers them from the oldest (0) on (get_nth_filter).
  std::vector<Program> oldest_first;
  for (unsigned i = 0;; ++i) {
    auto p = filter(i);
    if (!p) {
      // ENOENT: past the newest; EINVAL: not in filter mode (no filter at all).
      const int err = p.error().sys_errno;
      if (err == ENOENT || (err == EINVAL && i == 0)) break;
      if (err != ESRCH) p.error().code = Errc::permission;
      return p.error();
    }
    oldest_first.push_back(std::move(p.value()));
  }
  return oldest_first;
}

Result<std::uint64_t> Seized::find_gadget(const user_regs_struct& regs) {
  // Prefer the `syscall` the thread was stopped after; else any 0f 05 pair
  // in the vDSO (alignment does not matter to the CPU).
  unsigned char at[2] = {};
  if (regs.rip >= 2 && read_memory(tid_, regs.rip - 2, at, 2) && at[0] == 0x0f && at[1] == 0x05) return regs.rip - 2;
  if (const auto vdso = vdso_of(tid_)) {
    std::vector<unsigned char> code(vdso->hi - vdso->lo);
    BOOST_OUTCOME_TRY(read_memory(tid_, vdso->lo, code.data(), code.size()));
    for (std::size_t i = 0; i + 1 < code.size(); ++i)
      if (code[i] == 0x0f && code[i + 1] == 0x05) return vdso->lo + i;
  }
  return make_error(Errc::invalid, "no syscall instruction found in the target");
}

Result<std::uint64_t> Seized::open_window(std::span<const unsigned char> image) {
  Window w;
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_GETREGS, tid_, nullptr, &w.regs, "PTRACE_GETREGS"));
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_GETSIGMASK, tid_, as_data(sizeof w.mask), &w.mask, "PTRACE_GETSIGMASK"));
  BOOST_OUTCOME_TRY(gadget, find_gadget(w.regs));
  w.gadget = gadget;
  // `image` goes below the red zone, 16-byte aligned.
  w.scratch = (w.regs.rsp - 128 - image.size()) & ~std::uint64_t{15};
  w.old.resize(image.size());
  if (!image.empty()) {
    BOOST_OUTCOME_TRY(read_memory(tid_, w.scratch, w.old.data(), w.old.size()));
  }
  window_ = std::move(w);
  // Signals held (delivered after the restore, not lost): everything but
  // SIGTRAP, which the kernel forces for the single-step (forcing a blocked
  // SIGTRAP would reset the target's handler to SIG_DFL).
  std::uint64_t all = ~(std::uint64_t{1} << (SIGTRAP - 1));
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_SETSIGMASK, tid_, as_data(sizeof all), &all, "PTRACE_SETSIGMASK"));
  // EXITKILL: a tracer crash from here on kills the target rather than
  // leaving it corrupted (registers pointing at injected code).
  if (auto on = ptrace_do(PTRACE_SETOPTIONS, tid_, nullptr, as_data(PTRACE_O_EXITKILL), "PTRACE_SETOPTIONS(EXITKILL)");
      !on) {
    // Its mask must not stay all-blocked; a thread that cannot get it back
    // is killed (fail closed).
    if (!ptrace_do(PTRACE_SETSIGMASK, tid_, as_data(sizeof window_.mask), &window_.mask, "PTRACE_SETSIGMASK")) kill();
    return on.error();
  }
  if (!image.empty()) {
    if (auto staged = write_memory(tid_, window_.scratch, image.data(), image.size()); !staged) {
      if (!restore())
        kill();
      else
        (void)close_window();  // checked by the caller's path when it matters: the thread is restored
      return staged.error();
    }
  }
  return window_.scratch;
}

Status Seized::write(std::uint64_t addr, const void* data, std::size_t len) {
  return write_memory(tid_, addr, data, len);
}

Status Seized::restore() {
  if (!window_.old.empty()) {
    BOOST_OUTCOME_TRY(write_memory(tid_, window_.scratch, window_.old.data(), window_.old.size()));
  }
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_SETREGS, tid_, nullptr, &window_.regs, "PTRACE_SETREGS"));
  return ptrace_do(PTRACE_SETSIGMASK, tid_, as_data(sizeof window_.mask), &window_.mask, "PTRACE_SETSIGMASK");
}

Status Seized::close_window() { return ptrace_do(PTRACE_SETOPTIONS, tid_, nullptr, nullptr, "PTRACE_SETOPTIONS(0)"); }

Result<long> Seized::call(long nr, std::uint64_t a0, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3, int serve) {
  user_regs_struct r = window_.regs;
  r.rip = window_.gadget;
  r.rax = static_cast<std::uint64_t>(nr);
  r.orig_rax = static_cast<std::uint64_t>(-1);  // never subject to syscall restart
  r.rdi = a0;
  r.rsi = a1;
  r.rdx = a2;
  r.r10 = a3;
  r.r8 = r.r9 = 0;
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_SETREGS, tid_, nullptr, &r, "PTRACE_SETREGS"));
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_SINGLESTEP, tid_, nullptr, nullptr, "PTRACE_SINGLESTEP"));
  stopped_ = false;
  // An injected call returns at once, unless a filter of the member's own
  // routes it to a listener that never answers (a helper process holding
  // it): the tracer thread must not hang on that; the target is killed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  Backoff backoff;
  // The next stop's status; errors: gone, or limit (killed).
  const auto await_stop = [&]() -> Result<int> {
    for (;;) {
      auto waited = poll_wait(tid_);
      if (!waited) return gone(fmt::format("thread {}: {}", tid_, waited.error().message));
      if (waited.value()) return *waited.value();
      if (serve >= 0) {
        // The new filter may route this very call to its listener, which
        // no one else serves yet: answer it here while waiting for the
        // trap. Never a timed poll: the trap does not wake the listener,
        // so its timeout would be paid by every call.
        pollfd p{serve, POLLIN, 0};
        if (poll(&p, 1, 0) > 0)
          answer_one(serve, [&](const seccomp_notif& req) {
            return req.pid == static_cast<__u32>(tid_) && req.data.nr == nr && req.data.args[0] == a0;
          });
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill();
        return make_error(Errc::limit,
                          "an injected call did not return (held by a listener of the member's "
                          "own?); killed it");
      }
      backoff.pause();
    }
  };
  for (;;) {
    BOOST_OUTCOME_TRY(status, await_stop());
    if (WIFEXITED(status) || WIFSIGNALED(status)) return gone("the process died during injection");
    stopped_ = true;
    // The single-step trap is a plain SIGTRAP signal-delivery-stop. An
    // interrupt still pending from before (its stop shows SIGTRAP too, with
    // an event in the high bits) arrives first when the thread had stopped
    // for a signal: step past it.
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) break;
    // Signals are blocked during the window; anything else here is a stop
    // we resume past.
    BOOST_OUTCOME_TRY(ptrace_do(PTRACE_SINGLESTEP, tid_, nullptr, nullptr, "PTRACE_SINGLESTEP"));
    stopped_ = false;
  }
  user_regs_struct after{};
  BOOST_OUTCOME_TRY(ptrace_do(PTRACE_GETREGS, tid_, nullptr, &after, "PTRACE_GETREGS"));
  if (after.rip != window_.gadget + 2) return make_error(Errc::invalid, "the injected syscall did not complete");
  return static_cast<long>(after.rax);
}

Result<Spawned> Seized::spawn_private(pid_t tgid) {
  // The listener is taken from the new thread's table alone: that needs a
  // pidfd naming the thread (PIDFD_THREAD, Linux 6.9); a leader's pidfd
  // would reach the process's shared table, where that fd number is
  // something else.
  if (!open_pidfd(tid_, kPidfdThread)) return Spawned{-EINVAL, nullptr};
  // No CLONE_FILES: dup_fd() gives the thread a private copy of the table,
  // which no other task holds or can ever join (only clone(CLONE_FILES)
  // from a holder shares a table, and this thread only ever runs our
  // calls). No stack of its own (0: it keeps ours): it runs no code of the
  // process, only injected syscall instructions, which touch no memory.
  // CLONE_PTRACE attaches it to us with the seize semantics of its parent:
  // it stops (PTRACE_EVENT_STOP) before returning to user mode, and
  // copy_process() clears the single-step flag it would inherit.
  constexpr std::uint64_t kFlags = CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PTRACE;
  BOOST_OUTCOME_TRY(rc, call(SYS_clone, kFlags, 0, 0, 0));
  if (rc < 0) return Spawned{rc, nullptr};
  // A listener of the member's own may answer the clone with any number:
  // only a thread of this process may be taken for the new one (a thread
  // of another traced process would be driven and ended as ours). An
  // existing thread of it never shows a new stop: the wait below fails
  // and the process, the faker's own, is killed.
  if (rc == 0 || !in_thread_group(tgid, static_cast<pid_t>(rc)))
    return make_error(Errc::permission,
                      fmt::format("the injected clone answered {}, not a new thread of {}", rc, tgid));
  std::unique_ptr<Seized> thread(new Seized(static_cast<pid_t>(rc), pending_));
  thread->owned_ = true;
  BOOST_OUTCOME_TRY(thread->wait_stop(std::chrono::steady_clock::now() + std::chrono::seconds(2)));
  return Spawned{0, std::move(thread)};
}

sys::UniqueFd Seized::take_fd(int fd) {
  const sys::UniqueFd pidfd = open_pidfd(tid_, kPidfdThread);
  if (!pidfd) return {};
  return enforcer::take_fd(pidfd, fd);
}

void Seized::kill() {
  if (tid_ <= 0) return;
  // Its parent can reap it only once we, its tracer, have seen it die; a
  // leader is reapable only after its other (traced) threads, so the rest
  // is left to Pending rather than waited for here. kill() can fail only
  // with ESRCH (we are its tracer: no EPERM): already dead, and its death
  // may still wait for us, so it goes to Pending either way.
  const bool sent = ::kill(tid_, SIGKILL) == 0;
  static_cast<void>(sent);
  pending_.detach_later(tid_);
  tid_ = -1;
}

}  // namespace syscg::enforcer::inject
