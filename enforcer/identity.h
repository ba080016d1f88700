// Which process a number names, from /proc (procfs.h): the process a
// cgroup.procs write resolves to, a thread's thread group, whether a
// process holds CAP_SYS_PTRACE. Stateless: no pin, no lock; answers are as
// of the read (a pidfd, process_tracker.h, is what keeps naming a process).
#pragma once

#include "core/enforcement.h"
#include "core/error.h"
#include "core/ids.h"

namespace syscg::enforcer {

// The process named by a write of `written` (0: the writer, thread
// `writer_tid`). Errors: no_process (gone, or a zombie); invalid for a
// kernel thread, or `self` (the daemon) or one of its ancestors.
Result<Process> identify(Pid self, Pid written, Pid writer_tid);
// The thread group of thread `tid`. Errors: no_process.
Result<Pid> thread_group(Pid tid);
// /proc shows `pid` and it is not a zombie (nor dead).
bool running(Pid pid);
// CAP_SYS_PTRACE in the effective set.
bool has_cap_sys_ptrace(Pid pid);

}  // namespace syscg::enforcer
