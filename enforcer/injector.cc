#include "enforcer/injector.h"

#include "enforcer/bpf/interpreter.h"
#include "enforcer/pidfd.h"
#include "enforcer/procfs.h"
#include "enforcer/supervisor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <list>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace syscg::enforcer {
namespace {

Error sys_error(Errc code, std::string what) {
  return make_error(code, fmt::format("{}: {}", what, std::strerror(errno)));
}

long ptrace_req(int request, pid_t tid, void* addr = nullptr, void* data = nullptr) {
  return ptrace(static_cast<__ptrace_request>(request), tid, addr, data);
}

// PTRACE_SEIZE answers EPERM for a task that is already exiting; for us
// that task is simply gone.
bool exiting(pid_t tid) {
  const auto st = read_stat(tid);
  return !st || st.value().exiting();
}

bool traced_by_other(pid_t tid) {
  const auto tracer = read_tracer(tid);
  return tracer && tracer.value() != 0;
}

Status write_memory(pid_t tid, std::uint64_t addr, const void* data, std::size_t len) {
  iovec local{const_cast<void*>(data), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  if (process_vm_writev(tid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(len))
    return sys_error(Errc::invalid, "process_vm_writev");
  return outcome::success();
}

Status read_memory(pid_t tid, std::uint64_t addr, void* data, std::size_t len) {
  iovec local{data, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(len))
    return sys_error(Errc::invalid, "process_vm_readv");
  return outcome::success();
}

// Owned by the tracer thread; see finish_detaches().
thread_local std::vector<pid_t> pending_detaches;
// Every thread of a process that none stopped in time (all blocked in the
// kernel): each stops before its next user instruction, and the first to
// stop installs the filter for all (TSYNC reaches blocked threads too).
struct Deferred {
  std::list<Seized> threads;
  Program program;
};
thread_local std::list<Deferred> deferred_injections;  // a list: Seized cannot be move-assigned

// Detaches a stopped tracee, re-sending the signal a signal-delivery-stop
// swallowed.
void detach_stopped(pid_t tid, int status) {
  const int event = status >> 16;
  const int sig = event == 0 && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
  ptrace_req(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
}


}  // namespace

Result<Seized> Seized::seize(pid_t tid) {
  if (ptrace_req(PTRACE_SEIZE, tid) != 0) {
    if (errno == ESRCH || (errno == EPERM && exiting(tid)))
      return make_error(Errc::no_process, fmt::format("process {} is exiting", tid));
    if (errno == EPERM && traced_by_other(tid))
      return make_error(Errc::busy, fmt::format("process {} is already traced by another tracer", tid));
    return sys_error(Errc::permission, fmt::format("seize {}", tid));
  }
  return Seized(tid);
}

Seized::Seized(Seized&& o) noexcept : tid_(o.tid_), pending_signal_(o.pending_signal_), stopped_(o.stopped_) {
  o.tid_ = -1;
}

Seized::~Seized() {
  if (tid_ <= 0) return;
  if (stopped_) {
    // A tracee killed meanwhile cannot be detached: reap it later.
    if (ptrace_req(PTRACE_DETACH, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(pending_signal_))) != 0)
      pending_detaches.push_back(tid_);
    return;
  }
  // Not stopped: PTRACE_DETACH would fail. Detach once the stop arrives.
  int status = 0;
  const pid_t r = waitpid(tid_, &status, __WALL | WNOHANG);
  if (r == tid_ && WIFSTOPPED(status)) detach_stopped(tid_, status);
  else if (r != tid_) pending_detaches.push_back(tid_);
}

Result<bool> Seized::poll_stop() {
  if (stopped_) return true;
  int status = 0;
  const pid_t r = waitpid(tid_, &status, __WALL | WNOHANG);
  if (r == 0) return false;
  if (r == tid_ && WIFSTOPPED(status)) {
    stopped_ = true;
    if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP) pending_signal_ = WSTOPSIG(status);
    return true;
  }
  tid_ = -1;  // exited (or no longer ours): nothing to detach
  return make_error(Errc::no_process, "the process exited");
}

bool finish_detaches() {
  std::erase_if(deferred_injections, [](Deferred& d) {
    for (auto it = d.threads.begin(); it != d.threads.end();) {
      auto stopped = it->poll_stop();
      if (!stopped) {
        it = d.threads.erase(it);  // gone
        continue;
      }
      if (!stopped.value()) {
        ++it;
        continue;
      }
      if (auto rc = it->install(d.program, true); !rc || rc.value().rc != 0) {
        // It must not run on without the filter its group now demands.
        const pid_t tid = it->tid();
        it->kill_and_reap();
        fmt::print(stderr, "syscgfs: error: deferred filter for {} failed; killed it\n", tid);
      }
      return true;  // the Seized detach as they go
    }
    return d.threads.empty();
  });
  std::erase_if(pending_detaches, [](pid_t tid) {
    int status = 0;
    const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == 0) return false;  // still waiting for its stop
    if (r == tid && WIFSTOPPED(status)) detach_stopped(tid, status);
    return true;  // detached, exited, or no longer ours
  });
  return !pending_detaches.empty() || !deferred_injections.empty();
}

Status Seized::interrupt() {
  if (ptrace_req(PTRACE_INTERRUPT, tid_) != 0) return sys_error(Errc::no_process, "PTRACE_INTERRUPT");
  return outcome::success();
}

Status Seized::wait_stop(Deadline deadline) {
  if (stopped_) return outcome::success();  // seen already (poll_stop)
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(tid_, &status, __WALL | WNOHANG);
    if (r == tid_) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        tid_ = -1;  // gone; nothing to detach
        return make_error(Errc::no_process, "the process exited");
      }
      if (WIFSTOPPED(status)) {
        stopped_ = true;
        const int event = status >> 16;
        // PTRACE_EVENT_STOP covers the interrupt and group-stops; a plain
        // signal-delivery-stop is as good a place to inject, but its signal
        // must be delivered when we let go.
        if (event == 0 && WSTOPSIG(status) != SIGTRAP) pending_signal_ = WSTOPSIG(status);
        return outcome::success();
      }
    } else if (r < 0 && errno != EINTR) {
      return sys_error(Errc::no_process, "waitpid");
    }
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(Errc::limit, fmt::format("thread {} did not stop in time", tid_));
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
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

Result<long> Seized::call(const user_regs_struct& base, std::uint64_t gadget, long nr, std::uint64_t a0,
                          std::uint64_t a1, std::uint64_t a2, std::uint64_t a3, int serve) {
  user_regs_struct r = base;
  r.rip = gadget;
  r.rax = static_cast<std::uint64_t>(nr);
  r.orig_rax = static_cast<std::uint64_t>(-1);  // never subject to syscall restart
  r.rdi = a0;
  r.rsi = a1;
  r.rdx = a2;
  r.r10 = a3;
  r.r8 = r.r9 = 0;
  if (ptrace_req(PTRACE_SETREGS, tid_, nullptr, &r) != 0) return sys_error(Errc::no_process, "PTRACE_SETREGS");
  if (ptrace_req(PTRACE_SINGLESTEP, tid_) != 0) return sys_error(Errc::no_process, "PTRACE_SINGLESTEP");
  stopped_ = false;
  // An injected call returns at once, unless a filter of the member's own
  // routes it to a listener that never answers (a helper process holding
  // it): the tracer thread must not hang on that; the target is killed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (unsigned spins = 0;; ++spins) {
    int status = 0;
    pid_t waited = 0;
    if (serve < 0) {
      while ((waited = waitpid(tid_, &status, __WALL | WNOHANG)) < 0 && errno == EINTR) {
      }
      if (waited == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill_and_reap();
          return make_error(Errc::limit, "an injected call did not return (held by a listener of the member's "
                                         "own?); killed it");
        }
        // The single-step usually lands within microseconds.
        if (spins < 200) std::this_thread::yield();
        else std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
    } else {
      // The new filter may route this very call to its listener, which no
      // one else serves yet: answer it here while waiting for the trap.
      pollfd p{serve, POLLIN, 0};
      if (poll(&p, 1, 1) > 0)
        answer_one(serve, [&](const seccomp_notif& req) {
          return req.pid == static_cast<__u32>(tid_) && req.data.nr == nr && req.data.args[0] == a0;
        });
      while ((waited = waitpid(tid_, &status, __WALL | WNOHANG)) < 0 && errno == EINTR) {
      }
      if (waited == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill_and_reap();
          return make_error(Errc::limit, "an injected call did not return; killed it");
        }
        continue;
      }
    }
    if (waited != tid_) return sys_error(Errc::no_process, "waitpid");
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      tid_ = -1;
      return make_error(Errc::no_process, "the process died during injection");
    }
    stopped_ = true;
    // The single-step trap is a plain SIGTRAP signal-delivery-stop. An
    // interrupt still pending from before (its stop shows SIGTRAP too, with
    // an event in the high bits) arrives first when the thread had stopped
    // for a signal: step past it.
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) break;
    // Signals are blocked during the window; anything else here is a stop
    // we resume past.
    if (ptrace_req(PTRACE_SINGLESTEP, tid_) != 0) return sys_error(Errc::no_process, "PTRACE_SINGLESTEP");
    stopped_ = false;
  }
  user_regs_struct after{};
  if (ptrace_req(PTRACE_GETREGS, tid_, nullptr, &after) != 0) return sys_error(Errc::no_process, "PTRACE_GETREGS");
  if (after.rip != gadget + 2) return make_error(Errc::invalid, "the injected syscall did not complete");
  return static_cast<long>(after.rax);
}

template <class T>
Result<T> Seized::in_window(std::span<const unsigned char> image,
                            const std::function<Result<T>(const user_regs_struct&, std::uint64_t, std::uint64_t)>& body) {
  user_regs_struct saved{};
  if (ptrace_req(PTRACE_GETREGS, tid_, nullptr, &saved) != 0) return sys_error(Errc::no_process, "PTRACE_GETREGS");
  // Everything held but SIGTRAP: the kernel forces the single-step trap, and
  // forcing a blocked SIGTRAP would reset the target's handler to SIG_DFL.
  std::uint64_t saved_mask = 0, all = ~(std::uint64_t{1} << (SIGTRAP - 1));
  if (ptrace_req(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof saved_mask), &saved_mask) != 0)
    return sys_error(Errc::no_process, "PTRACE_GETSIGMASK");
  BOOST_OUTCOME_TRY(gadget, find_gadget(saved));

  // `image` goes below the red zone, 16-byte aligned.
  const std::size_t bytes = image.size();
  const std::uint64_t scratch = (saved.rsp - 128 - bytes) & ~std::uint64_t{15};
  std::vector<unsigned char> old(bytes);
  if (bytes > 0) {
    BOOST_OUTCOME_TRY(read_memory(tid_, scratch, old.data(), bytes));
  }

  // The window: signals held (delivered after the restore, not lost), and
  // EXITKILL so a tracer crash kills the target rather than corrupting it.
  if (ptrace_req(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof all), &all) != 0)
    return sys_error(Errc::no_process, "PTRACE_SETSIGMASK");
  if (ptrace_req(PTRACE_SETOPTIONS, tid_, nullptr, reinterpret_cast<void*>(PTRACE_O_EXITKILL)) != 0)
    return sys_error(Errc::no_process, "PTRACE_SETOPTIONS(EXITKILL)");

  auto result = [&]() -> Result<T> {
    if (bytes > 0) {
      BOOST_OUTCOME_TRY(write_memory(tid_, scratch, image.data(), bytes));
    }
    return body(saved, gadget, scratch);
  }();

  // Restore exactly, whatever happened above (unless the target is gone).
  // A target that cannot be restored would run on corrupted: kill it while
  // EXITKILL still stands.
  if (tid_ > 0) {
    const bool restored = (bytes == 0 || write_memory(tid_, scratch, old.data(), bytes)) &&
                          ptrace_req(PTRACE_SETREGS, tid_, nullptr, &saved) == 0 &&
                          ptrace_req(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof saved_mask),
                                     &saved_mask) == 0;
    if (!restored) {
      kill_and_reap();
      return make_error(Errc::invalid, "the target could not be restored after injection; killed it");
    }
    ptrace_req(PTRACE_SETOPTIONS, tid_, nullptr, nullptr);
  }
  return result;
}

Result<Seized::Installed> Seized::install(const Program& program, bool tsync, pid_t listener_of) {
  // Staged: {sock_fprog, instructions}; the sock_fprog points just past itself.
  const std::size_t bytes = sizeof(sock_fprog) + program.size() * sizeof(sock_filter);
  std::vector<unsigned char> image(bytes);
  std::memcpy(image.data() + sizeof(sock_fprog), program.data(), program.size() * sizeof(sock_filter));
  return in_window<Installed>(image, [&](const user_regs_struct& saved, std::uint64_t gadget,
                                         std::uint64_t scratch) -> Result<Installed> {
    sock_fprog fprog{static_cast<unsigned short>(program.size()),
                     reinterpret_cast<sock_filter*>(scratch + sizeof(sock_fprog))};
    BOOST_OUTCOME_TRY(write_memory(tid_, scratch, &fprog, sizeof fprog));
    // no_new_privs on every member: seccomp needs it without CAP_SYS_ADMIN,
    // and with it a member that later execs a setuid program gains nothing,
    // so a delegated user's filter can never confine a process that became
    // privileged (the attack the kernel's no_new_privs rule exists for).
    BOOST_OUTCOME_TRY(nnp, call(saved, gadget, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1));
    if (nnp != 0) return make_error(Errc::permission, fmt::format("injected prctl failed: {}", nnp));
    // (An ERRNO(0) filter of its own could fake that too: the kernel says.)
    BOOST_OUTCOME_TRY(state_before, read_seccomp(tid_));
    if (!state_before.no_new_privs) return make_error(Errc::permission, "the injected prctl reported success but no_new_privs is off");
    if (program.empty()) return Installed{};  // no new filter: no_new_privs only
    unsigned long flags = tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0;
    // NEW_LISTENER with TSYNC needs TSYNC_ESRCH: a diverging thread is then
    // -ESRCH instead of a thread id, which would collide with the fd.
    if (listener_of > 0) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    // While the listener sits in the target's fd table, any process allowed
    // to ptrace the target (same uid, Yama permitting) could take it with
    // pidfd_getfd: a non-dumpable target needs CAP_SYS_PTRACE for that.
    long dumpable = 1;
    if (listener_of > 0) {
      BOOST_OUTCOME_TRY(was, call(saved, gadget, SYS_prctl, PR_GET_DUMPABLE, 0));
      BOOST_OUTCOME_TRY(off, call(saved, gadget, SYS_prctl, PR_SET_DUMPABLE, 0));
      if (was < 0 || off != 0) return Installed{-EPERM, {}};
      dumpable = was;
    }
    // The member's own filters could route our calls to a listener of its
    // own, which could answer "done" without running them, and another of
    // its threads could install a filter meanwhile: the kernel's chain must
    // hold ours, byte for byte, right above the filters there were before.
    // (It counts from the oldest filter: kernel/seccomp.c get_nth_filter.)
    BOOST_OUTCOME_TRY(rc, call(saved, gadget, SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, scratch));
    if (rc >= 0) {
      auto* index = reinterpret_cast<void*>(static_cast<std::uintptr_t>(state_before.filters));
      const long len = ptrace_req(PTRACE_SECCOMP_GET_FILTER, tid_, index, nullptr);
      Program got(len > 0 ? static_cast<std::size_t>(len) : 0);
      if (len > 0 && ptrace_req(PTRACE_SECCOMP_GET_FILTER, tid_, index, got.data()) != len) got.clear();
      if (got.size() != program.size() ||
          std::memcmp(got.data(), program.data(), program.size() * sizeof(sock_filter)) != 0)
        return make_error(Errc::permission,
                          fmt::format("the injected seccomp reported success but our filter is not in the chain "
                                      "(filter {}: {} instructions, ours {})",
                                      state_before.filters, len, program.size()));
    }
    if (listener_of > 0 && rc < 0)  // no listener: dumpable again (unfiltered prctl)
      (void)call(saved, gadget, SYS_prctl, PR_SET_DUMPABLE, static_cast<std::uint64_t>(dumpable));
    if (listener_of > 0 && (rc == -ESRCH || rc == -EBUSY || rc == -EINVAL || rc == -EPERM)) return Installed{rc, {}};
    if (rc < 0) {
      const int e = static_cast<int>(-rc);
      return make_error(e == ENOMEM ? Errc::limit : Errc::invalid,
                        fmt::format("injected seccomp failed: {}", std::strerror(e)));
    }
    if (listener_of <= 0) return Installed{rc, {}};
    // rc is the listener's fd in the target. Every other thread is stopped
    // and no other process shares the fd table (checked by the caller), so
    // nothing can take a copy before the close below.
    Installed out;
    // The fd is in this thread's table: take it through a pidfd for this
    // thread (PIDFD_THREAD, Linux 6.9), not the leader's, which may be a
    // zombie (pthread_exit) whose table is gone; older kernels: the leader.
    sys::UniqueFd pidfd = open_pidfd(tid_, kPidfdThread);
    if (!pidfd) pidfd = open_pidfd(listener_of);
    if (pidfd) out.listener = take_fd(pidfd, static_cast<int>(rc));
    auto closed = call(saved, gadget, SYS_close, static_cast<std::uint64_t>(rc), 0, 0, 0, out.listener.get());
    // A filter of its own can fake the close (ERRNO(0) returns 0 and runs
    // nothing): the fd must really be gone. Every thread is stopped, so
    // nothing can have reused the number meanwhile.
    if (closed && closed.value() == 0 && pidfd) {
      sys::UniqueFd still = take_fd(pidfd, static_cast<int>(rc));
      if (still || errno != EBADF) closed = -EEXIST;
    }
    if (!closed || closed.value() != 0) {
      // The listener would stay with the target, which could answer its
      // own notifications: it must not run on (fail closed). E.g. a filter
      // of its own denies close.
      kill_and_reap();
      return make_error(Errc::permission,
                        fmt::format("the listener could not be closed in {} ({}); killed it", listener_of,
                                    closed ? std::strerror(static_cast<int>(-closed.value())) : closed.error().message));
    }
    // Through the new filter, which may route prctl: answered like close.
    (void)call(saved, gadget, SYS_prctl, PR_SET_DUMPABLE, static_cast<std::uint64_t>(dumpable), 0, 0,
               out.listener.get());
    return out;  // without a listener the routed numbers fail with ENOSYS: closed, not open
  });
}

Result<bool> Seized::uses_io_uring() {
  // io_uring_register(0, PROBE | USE_REGISTERED_RING): index 0 of the
  // thread's registered-ring table. The kernel answers EINVAL only when the
  // thread has no io_uring context at all (io_uring_register_get_file: no
  // tctx); with one, EBADF (empty slot) or the opcode's own answer. A
  // context outlives every fd and mapping of its rings, and keeps
  // registered rings, with their requests, alive.
  constexpr std::uint64_t kProbe = 8;                             // IORING_REGISTER_PROBE
  constexpr std::uint64_t kUseRegisteredRing = std::uint64_t{1} << 31;  // IORING_REGISTER_USE_REGISTERED_RING
  // The answer must come from the kernel: a filter that does not simply
  // allow the probe (its own ERRNO(EINVAL) would fake "no context") makes
  // the thread count as having one.
  BOOST_OUTCOME_TRY(chain, filters());
  seccomp_data probe{};
  probe.nr = SYS_io_uring_register;
  probe.arch = AUDIT_ARCH_X86_64;
  probe.args[1] = kProbe | kUseRegisteredRing;
  probe.args[2] = probe.args[3] = 1;
  for (const auto& p : chain)
    if (auto v = bpf::run(p, probe); !v || v.value() != SECCOMP_RET_ALLOW) return true;
  return in_window<bool>({}, [&](const user_regs_struct& saved, std::uint64_t gadget, std::uint64_t) -> Result<bool> {
    // arg 1 (a bad pointer), nr_args 1: where a ring is found, the probe
    // itself fails with EFAULT without touching anything (a NULL arg would
    // answer EINVAL, which must stay reserved for "no context").
    BOOST_OUTCOME_TRY(rc, call(saved, gadget, SYS_io_uring_register, 0, kProbe | kUseRegisteredRing, 1, 1));
    return rc != -EINVAL;  // anything else (a filter's EPERM included) counts as a context
  });
}

void Seized::kill_and_reap() {
  if (tid_ <= 0) return;
  // Its parent can reap it only once we, its tracer, have seen it die; a
  // leader is reapable only after its other (traced) threads, so the rest
  // is left to finish_detaches rather than waited for here.
  ::kill(tid_, SIGKILL);
  pending_detaches.push_back(tid_);
  tid_ = -1;
}

Result<std::vector<Program>> Seized::filters() {
  // The kernel numbers them from the oldest (0) on (get_nth_filter).
  std::vector<Program> oldest_first;
  for (unsigned long i = 0;; ++i) {
    const long n = ptrace_req(PTRACE_SECCOMP_GET_FILTER, tid_, reinterpret_cast<void*>(i), nullptr);
    if (n < 0) {
      // ENOENT: past the newest; EINVAL: not in filter mode (no filter at all).
      if (errno == ENOENT || (errno == EINVAL && i == 0)) break;
      return sys_error(errno == ESRCH ? Errc::no_process : Errc::permission, "PTRACE_SECCOMP_GET_FILTER");
    }
    Program p(static_cast<std::size_t>(n));
    if (ptrace_req(PTRACE_SECCOMP_GET_FILTER, tid_, reinterpret_cast<void*>(i), p.data()) != n)
      return sys_error(Errc::permission, "PTRACE_SECCOMP_GET_FILTER");
    oldest_first.push_back(std::move(p));
  }
  return oldest_first;
}

namespace {

using Threads = std::list<Seized>;  // a list: Seized cannot be move-assigned

// Seizes and interrupts every thread of tgid not in `known`, re-listing
// until no new one appears (a thread may create threads until it stops).
// A number listed may name another process's thread by the time it is
// seized: only threads still in tgid's task list after the seize are kept
// (the others are let go at their stop). A thread that is exiting (a zombie
// leader) is skipped.
// With `relist` false one listing is enough: threads created later inherit
// whatever TSYNC installs, and every thread listed is interrupted.
Status seize_new(pid_t tgid, std::set<pid_t>& known, Threads& out, bool relist = true) {
  for (bool again = true; again;) {
    bool grew = false;
    for (pid_t t : threads_of(tgid)) {
      if (!known.insert(t).second) continue;
      auto s = Seized::seize(t);
      if (!s) {
        if (s.error().code == Errc::no_process) continue;
        return s.error();
      }
      if (!s.value().interrupt()) continue;  // exited
      // (The leader's number is the process's own: the caller's pin vouches.)
      if (t != tgid && !in_thread_group(tgid, t)) continue;
      out.push_back(std::move(s.value()));
      grew = true;
    }
    again = grew && relist;
  }
  return outcome::success();
}

// Waits until one of `threads` has stopped whose filter chain is no longer
// than any other thread's; threads that exit are dropped. Only such a
// thread may install with TSYNC: from a thread with a longer chain (a
// filter of its own), TSYNC would succeed and hand that filter to every
// other thread too; from the shortest it fails where chains diverge, and
// each thread then gets ours alone. Errors: limit past the deadline,
// no_process when none is left.
Result<Threads::iterator> wait_any(Threads& threads, Deadline deadline) {
  for (;;) {
    unsigned shortest = ~0u;
    if (threads.size() > 1)
      for (auto& t : threads)
        if (auto st = read_seccomp(t.tid())) shortest = std::min(shortest, st.value().filters);
    for (auto it = threads.begin(); it != threads.end();) {
      auto stopped = it->poll_stop();
      if (!stopped) {
        it = threads.erase(it);
        continue;
      }
      if (stopped.value()) {
        if (threads.size() == 1) return it;
        auto st = read_seccomp(it->tid());
        if (st && st.value().filters <= shortest) return it;
      }
      ++it;
    }
    if (threads.empty()) return make_error(Errc::no_process, "the process exited");
    if (std::chrono::steady_clock::now() > deadline) return make_error(Errc::limit, "no thread stopped in time");
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// Stops every other thread of tgid: those seized already, and any new one.
Status stop_rest(pid_t tgid, std::set<pid_t>& known, Threads& others, Deadline deadline) {
  BOOST_OUTCOME_TRY(seize_new(tgid, known, others));
  for (auto it = others.begin(); it != others.end();) {
    if (auto stop = it->wait_stop(deadline); !stop) {
      if (stop.error().code != Errc::no_process) return stop.error();
      it = others.erase(it);
      continue;
    }
    ++it;
  }
  return outcome::success();
}

// Whether another process shares tgid's fd table (clone(CLONE_FILES)
// without CLONE_THREAD): it could take a listener while it sits there.
// Threads are not listed in /proc, so every entry is another process.
bool shares_files(pid_t tgid) {
  const auto all = all_processes();
  if (!all) return true;  // cannot tell: assume the worst
  // Every task, not just leaders: a leader may have unshared its table
  // while another of its threads still uses ours.
  for (Pid pid : all.value()) {
    if (pid == tgid) continue;
    for (Pid t : threads_of(pid)) {
      const long r = syscall(SYS_kcmp, tgid, t, KCMP_FILES, 0, 0);
      if (r == 0 || (r < 0 && errno == ENOSYS)) return true;
    }
  }
  return false;
}

// With every thread stopped: the filter into each one on its own.
Status install_each(Seized& first, Threads& others, const Program& program) {
  BOOST_OUTCOME_TRY(one, first.install(program, false));
  if (one.rc != 0) return make_error(Errc::invalid, "seccomp without TSYNC returned a thread id");
  for (auto& s : others) {
    BOOST_OUTCOME_TRY(each, s.install(program, false));
    if (each.rc != 0) return make_error(Errc::invalid, "seccomp without TSYNC returned a thread id");
  }
  return outcome::success();
}

}  // namespace

Result<Injection> inject_process(pid_t tgid, const Program& program, const Program* supervised,
                                 std::optional<pid_t> self_writer, Deadline deadline,
                                 const std::function<void(const Status&)>& after_interrupt, bool defer,
                                 const sys::UniqueFd& pin, bool probe_io_uring) {
  Injection out;
  Threads threads;  // seized and interrupted
  std::set<pid_t> known;
  if (self_writer) {
    // The writer itself: it is the one about to return to user space.
    auto seized = Seized::seize(*self_writer);
    if (!seized) {
      after_interrupt(seized.error());
      return seized.error();
    }
    auto interrupted = seized.value().interrupt();
    after_interrupt(interrupted);
    BOOST_OUTCOME_TRY(interrupted);
    known.insert(*self_writer);
    threads.push_back(std::move(seized.value()));
  } else {
    // Every thread: whichever stops first installs for all (TSYNC reaches
    // threads blocked in the kernel, e.g. a leader waiting in vfork), and
    // a zombie leader (pthread_exit) does not hide its live threads.
    Status all = seize_new(tgid, known, threads, false);
    if (all && threads.empty()) all = make_error(Errc::no_process, fmt::format("process {} has exited", tgid));
    after_interrupt(all);
    BOOST_OUTCOME_TRY(all);
  }
  auto stopped = wait_any(threads, deadline);
  if (!stopped) {
    if (defer && !probe_io_uring && stopped.error().code == Errc::limit) {
      // Every thread is blocked in the kernel: each stops before it runs
      // another instruction, and the first installs the filter then.
      deferred_injections.push_back({std::move(threads), program});
      if (supervised) out.why = NoListener::not_stopped;
      return out;
    }
    return stopped.error();
  }
  Threads first_only;
  first_only.splice(first_only.begin(), threads, stopped.value());
  Seized& first = first_only.front();
  Threads& others = threads;
  // The process identified before is still the one with this number (its
  // pidfd has not turned readable), so the threads seized are its own.
  const auto gone = [&] {
    return make_error(Errc::no_process, fmt::format("process {} exited; its number may name another", tgid));
  };
  if (pin && has_ended(pin)) return gone();

  if (probe_io_uring) {
    BOOST_OUTCOME_TRY(stop_rest(tgid, known, others, deadline));
    if (pin && has_ended(pin)) return gone();
    const auto probe = [&](Seized& t) -> Status {
      BOOST_OUTCOME_TRY(used, t.uses_io_uring());
      if (used)
        return make_error(Errc::busy, fmt::format("process {} has used io_uring (thread {}), which its group denies",
                                                  tgid, t.tid()));
      return outcome::success();
    };
    BOOST_OUTCOME_TRY(probe(first));
    for (Seized& t : others) {
      BOOST_OUTCOME_TRY(probe(t));
    }
  }

  if (supervised && !supervised->empty()) {
    // The listener will sit in the fd table for two injected calls: no
    // thread may run meanwhile (a fork would copy it to a child that could
    // then answer its own notifications).
    auto all_stopped = stop_rest(tgid, known, others, deadline);
    if (all_stopped && pin && has_ended(pin)) return gone();
    if (all_stopped && shares_files(tgid)) {
      out.why = NoListener::shared_files;
    } else if (all_stopped) {
      const auto children = children_of(tgid);  // stable: every thread is stopped
      out.unfiltered.assign(children.begin(), children.end());
      BOOST_OUTCOME_TRY(got, first.install(*supervised, true, tgid));
      if (got.rc == 0) {
        out.listener = std::move(got.listener);
        if (!out.listener) out.why = NoListener::lost;
        return out;
      }
      out.why = got.rc == -EBUSY    ? NoListener::own_listener
                : got.rc == -EINVAL ? NoListener::unsupported
                : got.rc == -EPERM  ? NoListener::refused
                                    : NoListener::threads_diverged;
      if (got.rc != -ESRCH) {
        BOOST_OUTCOME_TRY(plain, first.install(program, true));
        if (plain.rc == 0) return out;
      }
      BOOST_OUTCOME_TRY(install_each(first, others, program));
      return out;
    } else if (all_stopped.error().code != Errc::limit) {
      return all_stopped.error();
    } else {
      out.why = NoListener::not_stopped;  // the threads that did stop are let go
    }
  }

  // Children forked so far run without the new filter; with this thread
  // stopped, a single-threaded process cannot add to them.
  const auto before = children_of(tgid);
  BOOST_OUTCOME_TRY(got, first.install(program, true));
  if (got.rc == 0) {
    out.unfiltered.assign(before.begin(), before.end());
    // Other threads ran until TSYNC reached them and may have forked in
    // that window: report every new child too (the caller keeps members).
    for (pid_t c : children_of(tgid))
      if (!before.contains(c)) out.unfiltered.push_back(c);
    return out;
  }

  // TSYNC refused: thread rc's filters diverge from ours. Stop every thread
  // and inject each one on its own.
  BOOST_OUTCOME_TRY(stop_rest(tgid, known, others, deadline));
  const auto children = children_of(tgid);  // every thread is stopped now
  BOOST_OUTCOME_TRY(install_each(first, others, program));
  out.unfiltered.assign(children.begin(), children.end());
  return out;
}

}  // namespace syscg::enforcer
