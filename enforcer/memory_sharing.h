// Whether a process shares its memory (mm) with another process: answered
// from the kernel with kcmp(KCMP_VM), over the processes the birth log says
// may share it (birth_log.h), or over every process when it cannot say.
//
// Why it matters: the dumpable flag that keeps other processes from taking
// the listener of a first restriction (pidfd_getfd, /proc/PID/fd) belongs
// to the memory, and any process sharing it can turn it back on; such a
// process is not stopped with the target's threads. A shared memory gets no
// listener (inject/strategy.h, NoListener::shared_memory).
//
// Contract:
//  - shared() must be called with every thread of `tgid` stopped: then no
//    new holder of its memory can appear (only a holder can clone one), and
//    the answer stays true until they run again.
//  - Fail closed: a comparison that fails otherwise than with ESRCH (gone)
//    or EPERM counts as shared. EPERM: the daemon, root with CAP_SYS_PTRACE,
//    may not compare a process outside its user namespace's tree, while
//    every process cloned from the target (which is in the daemon's user
//    namespace: inject/strategy.h) is inside it.
//  - Threads: its own events thread (a ProcEvents of its own, never paused
//    by the tracker) feeds the log; shared() runs on the caller's thread.
#pragma once

#include "core/ids.h"
#include "enforcer/birth_log.h"
#include "enforcer/proc_events.h"
#include "enforcer/sys/log.h"

#include <memory>
#include <mutex>

namespace syscg::enforcer {

class MemorySharing final : private ProcEventHandler {
 public:
  explicit MemorySharing(sys::Log& log) : log_(log) {}
  MemorySharing(const MemorySharing&) = delete;
  MemorySharing& operator=(const MemorySharing&) = delete;
  ~MemorySharing() override { stop(); }

  // Starts the events (after the daemon forked). Without them every answer
  // compares every process. Errors as ProcEvents::start.
  Status start();
  void stop() { events_.reset(); }

  bool shared(Pid tgid);

 private:
  void forked(Pid, Pid child, std::uint64_t) override { log_book_.forked(child); }
  void thread_forked(Pid, Pid tgid) override { log_book_.thread_forked(tgid); }
  void execed(Pid tgid) override { log_book_.execed(tgid); }
  void exited(Pid tid, Pid tgid) override { log_book_.exited(tid, tgid); }
  void lost() override { log_book_.lost(); }
  void watched_ready(const std::function<void()>& drain) override { drain(); }

  sys::Log& log_;
  BirthLog log_book_;  // only under the events' delivery lock
  std::unique_ptr<ProcEvents> events_;
};

}  // namespace syscg::enforcer
