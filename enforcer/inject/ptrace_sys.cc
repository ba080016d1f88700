#include "enforcer/inject/ptrace_sys.h"

#include "enforcer/sys/error.h"

#include <cerrno>
#include <csignal>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>

namespace syscg::enforcer::inject {
namespace {

long raw_ptrace(int request, pid_t tid, void* addr, void* data) {
  return ptrace(static_cast<__ptrace_request>(request), tid, addr, data);
}

}  // namespace

Status ptrace_do(int request, pid_t tid, void* addr, void* data, std::string_view what) {
  if (raw_ptrace(request, tid, addr, data) != 0) return sys::sys_error(what);
  return outcome::success();
}

Result<long> ptrace_value(int request, pid_t tid, void* addr, void* data, std::string_view what) {
  errno = 0;
  const long r = raw_ptrace(request, tid, addr, data);
  if (r < 0) return sys::sys_error(what);
  return r;
}

Status read_memory(pid_t tid, std::uint64_t addr, void* data, std::size_t len) {
  iovec local{data, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  const ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(len)) return outcome::success();
  const int err = n < 0 ? errno : EFAULT;  // short: the range ends in an unmapped page
  return sys::sys_error(err == ESRCH ? Errc::no_process : Errc::invalid, "process_vm_readv", err);
}

Status write_memory(pid_t tid, std::uint64_t addr, const void* data, std::size_t len) {
  iovec local{const_cast<void*>(data), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  const ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(len)) return outcome::success();
  const int err = n < 0 ? errno : EFAULT;
  return sys::sys_error(err == ESRCH ? Errc::no_process : Errc::invalid, "process_vm_writev", err);
}

Result<std::optional<int>> poll_wait(pid_t tid) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid) return std::optional<int>(status);
    if (r == 0) return std::optional<int>();
    if (errno != EINTR) return sys::sys_error("waitpid");
  }
}

int stop_signal(int status) {
  // PTRACE_EVENT_STOP (the interrupt, group-stops) carries an event in the
  // high bits; a plain signal-delivery-stop is as good a place to inject,
  // but its signal must be delivered when we let go. SIGTRAP is ours (the
  // single-step).
  return (status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
}

Status detach(pid_t tid, int signal) {
  return ptrace_do(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)), "PTRACE_DETACH");
}

// Why a poll loop: the kernel offers no wait for a ptrace stop with a
// timeout, and the tracer thread must never block on a tracee (a thread
// blocked in the kernel, e.g. a vfork parent or a writer waiting for our
// own FUSE reply, may never stop). waitpid/waitid block without a limit;
// a pidfd turns readable only at exit, not at a stop; SIGCHLD through a
// signalfd would need SIGCHLD blocked in every thread of the daemon
// (libfuse's included), and a timer signal to interrupt waitpid a
// process-wide handler. A stop usually lands within microseconds, so
// yielding first keeps the common case fast; then 50 µs naps bound the
// cost of a thread that stops late.
void Backoff::pause() {
  if (spins_++ < 200)
    std::this_thread::yield();
  else
    std::this_thread::sleep_for(std::chrono::microseconds(50));
}

}  // namespace syscg::enforcer::inject
