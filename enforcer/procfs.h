// What syscg reads about processes from /proc: the one place that opens
// /proc files (their text is parsed by proc_text.h). Only enforcer/ reads
// /proc.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "enforcer/proc_text.h"

#include <cstdint>
#include <optional>
#include <set>
#include <sys/types.h>
#include <vector>

namespace syscg::enforcer {

struct ProcStatus {
  Pid tid;
  Pid tgid;
  Pid ppid;
  uid_t uid, euid, suid;
  char state;                // R, S, D, Z, ...
  bool kernel_thread;        // PF_KTHREAD in /proc/PID/stat's flags
  std::uint64_t start_time;  // clock ticks after boot: with the pid, names one process
};

// /proc/TID/stat. Errors: no_process when it does not exist (or is malformed).
Result<ProcStat> read_stat(Pid tid);

// /proc/TID/stat and /proc/TID/status. Errors: no_process (ESRCH) when
// /proc/TID does not exist.
Result<ProcStatus> read_status(Pid tid);

// A thread's seccomp state (/proc/TID/status). Errors: no_process.
struct SeccompState {
  bool no_new_privs;
  unsigned filters;  // Seccomp_filters: the length of its chain
};
Result<SeccompState> read_seccomp(Pid tid);

// The effective capability set of a process (CapEff). Errors: no_process.
Result<std::uint64_t> read_capabilities(Pid pid);

// TracerPid of a thread (0: not traced). Errors: no_process.
Result<Pid> read_tracer(Pid tid);

// The threads of process `tgid` (/proc/TGID/task); empty when it is gone.
std::vector<Pid> threads_of(Pid tgid);
// The children of every thread of `tgid` (/proc/TGID/task/*/children).
std::set<Pid> children_of(Pid tgid);
// Whether thread `tid` is in thread group `tgid` now.
bool in_thread_group(Pid tgid, Pid tid);
// Every process (thread group) /proc lists. Errors: io when /proc cannot
// be read.
Result<std::vector<Pid>> all_processes();

// The [vdso] mapping of thread `tid`. nullopt when it has none or is gone.
std::optional<Range> vdso_of(Pid tid);

// Whether process `tgid` holds an io_uring instance: an fd in the table of
// any of its threads (threads may have unshared their tables), only a
// mapping of its rings (the fd closed), or io_uring threads of its own (an
// SQPOLL thread, io-wq workers: rings kept alive elsewhere, e.g. in the
// registered ring table). A process that cannot be read counts as holding
// one.
bool holds_io_uring(Pid tgid);

}  // namespace syscg::enforcer
