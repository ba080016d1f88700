// The MembershipListener (syscgfs) the enforcer reports to, behind one
// lock: set_listener(nullptr) returns only once no report is in flight, so
// the listener may be destroyed right after. Every report runs with the
// lock held: the listener's own locks (syscgfs's leaves: MetaTable,
// HandleTable, Membership, Denials; the Hierarchy's) come after it, and the listener must
// never call back into the enforcer from a report. A report with no
// listener set is dropped (trapped: false, deny).
#pragma once

#include "core/enforcement.h"
#include "core/mutex.h"

#include <optional>
#include <string_view>

namespace syscg::enforcer {

class ListenerSlot {
 public:
  void set(MembershipListener* listener) SYSCG_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    listener_ = listener;
  }
  bool forked(Pid parent, Pid child) SYSCG_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return listener_ && listener_->forked(parent, child);
  }
  void exited(Pid pid) SYSCG_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (listener_) listener_->exited(pid);
  }
  std::optional<int> trapped(Pid tgid, unsigned nr) SYSCG_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return listener_ ? listener_->trapped(tgid, nr) : std::optional<int>(EPERM);
  }
  void killed(Pid tgid, GroupId group, std::string_view why) SYSCG_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (listener_) listener_->killed(tgid, group, why);
  }

 private:
  Mutex mu_;
  MembershipListener* listener_ SYSCG_GUARDED_BY(mu_) = nullptr;
};

}  // namespace syscg::enforcer
