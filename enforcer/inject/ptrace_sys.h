// The system calls the injector makes on a tracee, each checked: errors
// carry the errno and the call (sys::sys_error). No policy here.
#pragma once

#include "core/error.h"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace syscg::enforcer::inject {

// ptrace(request, tid, addr, data); errors keep errno, kind by errc_of
// (ESRCH -> no_process: the tracee is gone or not stopped).
Status ptrace_do(int request, pid_t tid, void* addr, void* data, std::string_view what);
// For requests that return a value (PTRACE_SECCOMP_GET_FILTER).
Result<long> ptrace_value(int request, pid_t tid, void* addr, void* data, std::string_view what);

// process_vm_readv / process_vm_writev of exactly `len` bytes. Errors:
// no_process (ESRCH), else invalid (a short transfer or a bad address).
Status read_memory(pid_t tid, std::uint64_t addr, void* data, std::size_t len);
Status write_memory(pid_t tid, std::uint64_t addr, const void* data, std::size_t len);

// One waitpid(tid, __WALL | WNOHANG), retried on EINTR. nullopt: nothing
// yet. Errors: no_process (ECHILD: not ours, or reaped).
Result<std::optional<int>> poll_wait(pid_t tid);

// The signal a stop swallowed and a detach must deliver: that of a plain
// signal-delivery-stop (not the SIGTRAP of a single-step), else 0.
int stop_signal(int status);

// PTRACE_DETACH of a stopped tracee, re-sending `signal`. Errors: the
// tracee is not stopped (ESRCH) or gone.
Status detach(pid_t tid, int signal);

// Waits between two polls for a tracee's stop (see ptrace_sys.cc): yields
// first, then sleeps briefly.
class Backoff {
 public:
  void pause();

 private:
  unsigned spins_ = 0;
};

}  // namespace syscg::enforcer::inject
