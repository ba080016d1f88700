#include "enforcer/decider.h"

#include "enforcer/procfs.h"

#include <cerrno>

namespace syscg::enforcer {

int Decider::decide(pid_t tid, unsigned nr) {
  if (tid <= 0) return EPERM;  // not visible in our pid namespace
  for (int attempt = 0; attempt < 2; ++attempt) {
    // First the view as it is; then (a child whose fork event is still
    // queued, a member whose exit was not seen) every event up to now.
    // Never the caller's current parent: an orphan's is a subreaper, in
    // any group.
    if (attempt > 0) tracker_.sync();
    // Most callers are a leader thread: a live pinned process whose id is
    // `tid` (no other task can hold that number while it lives).
    if (tracker_.alive(tid)) {
      if (auto v = listener_.trapped(tid, nr)) return *v;
      continue;
    }
    // Else the kernel's current thread group of `tid`. Only a member whose
    // pinned process is alive is asked: a stale entry (its process gone,
    // the number reused) decides nothing, and is retired once the events
    // up to now are in.
    auto st = read_status(tid);
    if (!st) return EPERM;
    const Pid tgid = st.value().tgid;
    if (tracker_.pinned(tgid)) {
      if (tracker_.alive(tgid)) {
        if (auto v = listener_.trapped(tgid, nr)) return *v;
      } else if (attempt > 0) {
        retire_(tgid);
      }
    } else if (attempt > 0) {
      if (auto v = listener_.trapped(tgid, nr)) return *v;  // a member whose pidfd could not be taken
    }
  }
  return EPERM;
}

}  // namespace syscg::enforcer
