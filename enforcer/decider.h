// The supervisor's decisions: whether a member's routed call may run, or
// which errno it fails with, from its group's current policy (the
// listener's trapped()).
//
// Contract: decide(tid, nr) runs on the supervisor thread, which holds the
// Enforcer's decide_mu_ shared (the barrier) until the answer is sent. The
// caller is blocked in its notification while we look, so `tid` keeps
// naming it: were it killed meanwhile (and its number reused), the kernel
// would refuse the answer (SECCOMP_IOCTL_NOTIF_SEND: ENOENT). Only a live
// pinned process, or (after every event up to now is in: sync()) an
// unpinned member, is asked; a stale pin (its process gone) is retired
// through `retire` and decides nothing. Anything unknown is denied.
// Locks: may take the tracker's delivery lock (sync()) and, through it and
// `retire`, the records and listener locks; it is called with decide_mu_
// held shared, so decide_mu_ comes before the tracker pause.
#pragma once

#include "core/ids.h"
#include "enforcer/listener_slot.h"
#include "enforcer/process_tracker.h"

#include <functional>
#include <optional>
#include <sys/types.h>

namespace syscg::enforcer {

class Decider {
 public:
  // retire(tgid): tgid's pinned process has ended: forget it and report it.
  Decider(ProcessTracker& tracker, ListenerSlot& listener, std::function<void(Pid)> retire)
      : tracker_(tracker), listener_(listener), retire_(std::move(retire)) {}

  // 0: the call runs; else the errno it fails with (EPERM for anything
  // unknown).
  int decide(pid_t tid, unsigned nr);

 private:
  ProcessTracker& tracker_;
  ListenerSlot& listener_;
  std::function<void(Pid)> retire_;
};

}  // namespace syscg::enforcer
