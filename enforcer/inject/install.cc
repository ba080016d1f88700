#include "enforcer/inject/install.h"

#include "enforcer/bpf/interpreter.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

namespace syscg::enforcer::inject {
namespace {

// Runs `body(scratch)` inside the window (image staged at scratch), then
// restores whatever happened. A target that cannot be restored would run on
// corrupted: it is killed while EXITKILL still stands. Closing the window
// (EXITKILL off) is checked: a thread left with EXITKILL would die with the
// daemon; ESRCH there means it is gone, nothing to protect.
template <class T>
Result<T> in_window(Thread& t, std::span<const unsigned char> image,
                    const std::function<Result<T>(std::uint64_t)>& body) {
  BOOST_OUTCOME_TRY(scratch, t.open_window(image));
  auto result = body(scratch);
  if (!t.attached()) return result;  // died meanwhile: nothing to restore
  if (auto restored = t.restore(); !restored) {
    t.kill();
    return make_error(Errc::invalid, fmt::format("the target could not be restored after injection ({}); killed it",
                                                 restored.error().message));
  }
  if (auto closed = t.close_window(); !closed && closed.error().sys_errno != ESRCH && result) return closed.error();
  return result;
}

std::string errno_text(long rc) { return std::strerror(static_cast<int>(-rc)); }

}  // namespace

Result<Installed> install(Thread& t, const Program& program, bool tsync, pid_t listener_of) {
  // Staged: {sock_fprog, instructions}; the sock_fprog points just past itself.
  const std::size_t bytes = sizeof(sock_fprog) + program.size() * sizeof(sock_filter);
  std::vector<unsigned char> image(bytes);
  if (!program.empty())  // an empty program's data() may be null: memcpy's UB even for 0 bytes
    std::memcpy(image.data() + sizeof(sock_fprog), program.data(), program.size() * sizeof(sock_filter));
  return in_window<Installed>(t, image, [&](std::uint64_t scratch) -> Result<Installed> {
    sock_fprog fprog{static_cast<unsigned short>(program.size()),
                     reinterpret_cast<sock_filter*>(scratch + sizeof(sock_fprog))};
    BOOST_OUTCOME_TRY(t.write(scratch, &fprog, sizeof fprog));
    // no_new_privs on every member: seccomp needs it without CAP_SYS_ADMIN,
    // and with it a member that later execs a setuid program gains nothing,
    // so a delegated user's filter can never confine a process that became
    // privileged (the attack the kernel's no_new_privs rule exists for).
    BOOST_OUTCOME_TRY(nnp, t.call(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1));
    if (nnp != 0) return make_error(Errc::permission, fmt::format("injected prctl failed: {}", nnp));
    // (An ERRNO(0) filter of its own could fake that too: the kernel says.)
    BOOST_OUTCOME_TRY(state_before, t.seccomp_state());
    if (!state_before.no_new_privs)
      return make_error(Errc::permission, "the injected prctl reported success but no_new_privs is off");
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
      BOOST_OUTCOME_TRY(was, t.call(SYS_prctl, PR_GET_DUMPABLE, 0));
      BOOST_OUTCOME_TRY(off, t.call(SYS_prctl, PR_SET_DUMPABLE, 0));
      if (was < 0 || off != 0) return Installed{-EPERM, {}};
      dumpable = was;
    }
    // The member's own filters could route our calls to a listener of its
    // own, which could answer "done" without running them, and another of
    // its threads could install a filter meanwhile: the kernel's chain must
    // hold ours, byte for byte, right above the filters there were before.
    // (It counts from the oldest filter: kernel/seccomp.c get_nth_filter.)
    BOOST_OUTCOME_TRY(rc, t.call(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, scratch));
    if (rc >= 0) {
      auto got = t.filter(state_before.filters);
      if (!got || got.value().size() != program.size() ||
          std::memcmp(got.value().data(), program.data(), program.size() * sizeof(sock_filter)) != 0)
        return make_error(Errc::permission,
                          fmt::format("the injected seccomp reported success but our filter is not in the chain "
                                      "(filter {}: {}, ours {} instructions)",
                                      state_before.filters,
                                      got ? fmt::format("{} instructions", got.value().size()) : got.error().message,
                                      program.size()));
    }
    // No listener: dumpable again (unfiltered prctl). A call that cannot
    // run (the thread died or was killed) is an error; a prctl that refuses
    // leaves the target non-dumpable, the safe side.
    if (listener_of > 0 && rc < 0) {
      BOOST_OUTCOME_TRY(t.call(SYS_prctl, PR_SET_DUMPABLE, static_cast<std::uint64_t>(dumpable)));
    }
    if (listener_of > 0 && (rc == -ESRCH || rc == -EBUSY || rc == -EINVAL || rc == -EPERM)) return Installed{rc, {}};
    if (rc < 0)
      return make_error(rc == -ENOMEM ? Errc::limit : Errc::invalid,
                        fmt::format("injected seccomp failed: {}", errno_text(rc)));
    if (listener_of <= 0) return Installed{rc, {}};
    // rc is the listener's fd in the target. Every other thread is stopped
    // and no other process shares the fd table (checked by the caller), so
    // nothing can take a copy before the close below.
    Installed out;
    out.listener = t.take_fd(static_cast<int>(rc), listener_of);
    auto closed = t.call(SYS_close, static_cast<std::uint64_t>(rc), 0, 0, 0, out.listener.get());
    // A filter of its own can fake the close (ERRNO(0) returns 0 and runs
    // nothing): the fd must really be gone. Every thread is stopped, so
    // nothing can have reused the number meanwhile.
    if (closed && closed.value() == 0 && t.holds_fd(static_cast<int>(rc)).value_or(false)) closed = -EEXIST;
    if (!closed || closed.value() != 0) {
      // The listener would stay with the target, which could answer its
      // own notifications: it must not run on (fail closed). E.g. a filter
      // of its own denies close.
      t.kill();
      return make_error(Errc::permission,
                        fmt::format("the listener could not be closed in {} ({}); killed it", listener_of,
                                    closed ? errno_text(closed.value()) : closed.error().message));
    }
    // Dumpable again, through the new filter, which may route prctl:
    // answered like close. A call that cannot run (the thread died, or was
    // killed because it never returned) fails the injection; a prctl that
    // refuses leaves the target non-dumpable, the safe side.
    BOOST_OUTCOME_TRY(
        t.call(SYS_prctl, PR_SET_DUMPABLE, static_cast<std::uint64_t>(dumpable), 0, 0, out.listener.get()));
    return out;  // without a listener the routed numbers fail with ENOSYS: closed, not open
  });
}

Result<bool> uses_io_uring(Thread& t) {
  // io_uring_register(0, PROBE | USE_REGISTERED_RING): index 0 of the
  // thread's registered-ring table. The kernel answers EINVAL only when the
  // thread has no io_uring context at all (io_uring_register_get_file: no
  // tctx); with one, EBADF (empty slot) or the opcode's own answer. A
  // context outlives every fd and mapping of its rings, and keeps
  // registered rings, with their requests, alive.
  constexpr std::uint64_t kProbe = 8;                                   // IORING_REGISTER_PROBE
  constexpr std::uint64_t kUseRegisteredRing = std::uint64_t{1} << 31;  // IORING_REGISTER_USE_REGISTERED_RING
  // The answer must come from the kernel: a filter that does not simply
  // allow the probe (its own ERRNO(EINVAL) would fake "no context") makes
  // the thread count as having one.
  BOOST_OUTCOME_TRY(chain, t.filters());
  seccomp_data probe{};
  probe.nr = SYS_io_uring_register;
  probe.arch = AUDIT_ARCH_X86_64;
  probe.args[1] = kProbe | kUseRegisteredRing;
  probe.args[2] = probe.args[3] = 1;
  for (const auto& p : chain)
    if (auto v = bpf::run(p, probe); !v || v.value() != SECCOMP_RET_ALLOW) return true;
  return in_window<bool>(t, {}, [&](std::uint64_t) -> Result<bool> {
    // arg 1 (a bad pointer), nr_args 1: where a ring is found, the probe
    // itself fails with EFAULT without touching anything (a NULL arg would
    // answer EINVAL, which must stay reserved for "no context").
    BOOST_OUTCOME_TRY(rc, t.call(SYS_io_uring_register, 0, kProbe | kUseRegisteredRing, 1, 1));
    return rc != -EINVAL;  // anything else (a filter's EPERM included) counts as a context
  });
}

}  // namespace syscg::enforcer::inject
