#include "enforcer/enforcer.h"

#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <unistd.h>

namespace syscg::enforcer {

Enforcer::Enforcer() : self_(getpid()) {}

Result<fs::Process> Enforcer::identify(Pid written, Pid writer_tid) {
  BOOST_OUTCOME_TRY(st, read_status(written == 0 ? writer_tid : written));
  if (st.kernel_thread) return make_error(Errc::invalid, fmt::format("{} is a kernel thread", written));
  if (st.state == 'Z' || st.state == 'X') return make_error(Errc::no_process, fmt::format("{} has exited", written));
  // The daemon and its ancestors: filtering them could stop syscg itself.
  for (Pid p = self_; p > 0;) {
    if (p == st.tgid)
      return make_error(Errc::invalid, fmt::format("{} is syscgfs or one of its ancestors", st.tgid));
    auto up = read_status(p);
    if (!up) break;
    p = up.value().ppid;
  }
  return fs::Process{st.tgid, st.uid, st.euid, st.suid};
}

bool Enforcer::alive(Pid pid) {
  auto st = read_status(pid);
  return st && st.value().state != 'Z' && st.value().state != 'X';
}

Status Enforcer::attach(Pid, GroupId, const SyscallSet&) { return outcome::success(); }

Status Enforcer::policy_changed(std::span<const MemberPolicy>) { return outcome::success(); }

}  // namespace syscg::enforcer
