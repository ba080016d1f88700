// What syscg reads about processes from /proc. Only enforcer/ reads /proc.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"

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

}  // namespace syscg::enforcer
