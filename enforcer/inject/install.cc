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

// The member's own filters could route our calls to a listener of its own,
// which could answer "done" without running them, and another of its
// threads could install a filter meanwhile: the kernel's chain must hold
// ours, byte for byte, right above the filters there were before. (It
// counts from the oldest filter: kernel/seccomp.c get_nth_filter.)
Status read_back(Thread& t, const Program& program, unsigned filters_before) {
  auto got = t.filter(filters_before);
  if (got && got.value().size() == program.size() &&
      std::memcmp(got.value().data(), program.data(), program.size() * sizeof(sock_filter)) == 0)
    return outcome::success();
  return make_error(
      Errc::permission,
      fmt::format("the injected seccomp reported success but our filter is not in the chain "
                  "(filter {}: {}, ours {} instructions)",
                  filters_before, got ? fmt::format("{} instructions", got.value().size()) : got.error().message,
                  program.size()));
}

// Ends the private thread; its table, holding the only other copy of the
// listener, goes with it. It must really be gone (a filter of the member's
// own can fake exit's "success" with ERRNO(0), or refuse it): else the
// process is killed, as the listener would stay with it.
Status end_private(Thread& w, int serve) {
  auto ended = w.call(SYS_exit, 0, 0, 0, 0, serve);
  if (!w.attached()) return outcome::success();  // exited, and reaped
  w.kill();
  return make_error(Errc::permission,
                    fmt::format("the thread holding the listener did not exit ({}); killed the process",
                                ended ? errno_text(ended.value()) : ended.error().message));
}

// seccomp(NEW_LISTENER | TSYNC | TSYNC_ESRCH) from a private thread
// (Thread::spawn_private), so that the listener is created in a table no
// other task holds, rather than the process's own, which another process
// could share (clone(CLONE_FILES)) and take it from. TSYNC gives the filter
// to every thread of the process. Inside t's window, program staged at
// `scratch` (the threads share the memory).
Result<Installed> with_listener(Thread& t, const Program& program, std::uint64_t scratch, unsigned filters_before,
                                pid_t listener_of) {
  // While the listener exists in the private thread's table, any process
  // allowed to ptrace the target (same uid, Yama permitting) could take it
  // with pidfd_getfd: a non-dumpable target needs CAP_SYS_PTRACE for that.
  BOOST_OUTCOME_TRY(was, t.call(SYS_prctl, PR_GET_DUMPABLE, 0));
  BOOST_OUTCOME_TRY(off, t.call(SYS_prctl, PR_SET_DUMPABLE, 0));
  if (was < 0 || off != 0) return Installed{-EPERM, {}, false};
  // Dumpable again, through the new filter when there is one (it may route
  // prctl: answered like exit). A call that cannot run fails the
  // injection; a prctl that refuses leaves the target non-dumpable, the
  // safe side.
  const auto dumpable_again = [&](int serve) -> Status {
    BOOST_OUTCOME_TRY(t.call(SYS_prctl, PR_SET_DUMPABLE, static_cast<std::uint64_t>(was), 0, 0, serve));
    return outcome::success();
  };
  BOOST_OUTCOME_TRY(spawned, t.spawn_private(listener_of));
  if (!spawned.thread) {
    BOOST_OUTCOME_TRY(dumpable_again(-1));
    return Installed{spawned.rc, {}, spawned.rc != -EINVAL};
  }
  Thread& w = *spawned.thread;
  BOOST_OUTCOME_TRY(w.open_window({}));
  constexpr unsigned long kFlags =
      SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  BOOST_OUTCOME_TRY(rc, w.call(SYS_seccomp, SECCOMP_SET_MODE_FILTER, kFlags, scratch));
  Status checked = rc >= 0 ? read_back(t, program, filters_before) : outcome::success();
  sys::UniqueFd listener;
  if (rc >= 0 && checked) listener = w.take_fd(static_cast<int>(rc));
  BOOST_OUTCOME_TRY(end_private(w, listener.get()));
  BOOST_OUTCOME_TRY(checked);
  if (rc < 0) {
    BOOST_OUTCOME_TRY(dumpable_again(-1));
    if (rc == -ESRCH || rc == -EBUSY || rc == -EINVAL || rc == -EPERM) return Installed{rc, {}, false};
    return make_error(rc == -ENOMEM ? Errc::limit : Errc::invalid,
                      fmt::format("injected seccomp failed: {}", errno_text(rc)));
  }
  BOOST_OUTCOME_TRY(dumpable_again(listener.get()));
  Installed out;
  out.listener = std::move(listener);  // without it the routed numbers fail with ENOSYS: closed, not open
  return out;
}

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
    if (listener_of > 0) return with_listener(t, program, scratch, state_before.filters, listener_of);
    BOOST_OUTCOME_TRY(rc, t.call(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0, scratch));
    if (rc >= 0) {
      BOOST_OUTCOME_TRY(read_back(t, program, state_before.filters));
      return Installed{rc, {}};
    }
    return make_error(rc == -ENOMEM ? Errc::limit : Errc::invalid,
                      fmt::format("injected seccomp failed: {}", errno_text(rc)));
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
