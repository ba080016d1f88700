// What syscg reads about processes from /proc. Only enforcer/ reads /proc.
#pragma once

#include "core/error.h"
#include "core/ids.h"

#include <cstdint>
#include <sys/types.h>

namespace syscg::enforcer {

struct ProcStatus {
  Pid tid;
  Pid tgid;
  Pid ppid;
  uid_t uid, euid, suid;
  char state;                   // R, S, D, Z, ...
  bool kernel_thread;           // PF_KTHREAD in /proc/PID/stat's flags
  std::uint64_t start_time;     // clock ticks after boot: with the pid, names one process
};

// Errors: no_process (ESRCH) when /proc/TID does not exist.
Result<ProcStatus> read_status(Pid tid);

// A thread's seccomp state (/proc/TID/status). Errors: no_process.
struct SeccompState {
  bool no_new_privs;
  unsigned filters;  // Seccomp_filters: the length of its chain
};
Result<SeccompState> read_seccomp(Pid tid);

// The effective capability set of a process (CapEff). Errors: no_process.
Result<std::uint64_t> read_capabilities(Pid pid);

// Whether process `tgid` holds an io_uring instance: an fd in the table of
// any of its threads (threads may have unshared their tables), only a
// mapping of its rings (the fd closed), or io_uring threads of its own (an
// SQPOLL thread, io-wq workers: rings kept alive elsewhere, e.g. in the
// registered ring table). A process that cannot be read counts as holding
// one.
bool holds_io_uring(Pid tgid);

}  // namespace syscg::enforcer
