#include "enforcer/identity.h"

#include "enforcer/procfs.h"

#include <fmt/format.h>

namespace syscg::enforcer {

Result<Process> identify(Pid self, Pid written, Pid writer_tid) {
  BOOST_OUTCOME_TRY(st, read_status(written == 0 ? writer_tid : written));
  if (st.kernel_thread) return make_error(Errc::invalid, fmt::format("{} is a kernel thread", written));
  if (st.state == 'Z' || st.state == 'X') return make_error(Errc::no_process, fmt::format("{} has exited", written));
  // The daemon and its ancestors: filtering them could stop syscg itself.
  for (Pid p = self; p > 0;) {
    if (p == st.tgid) return make_error(Errc::invalid, fmt::format("{} is syscgfs or one of its ancestors", st.tgid));
    auto up = read_status(p);
    if (!up) break;
    p = up.value().ppid;
  }
  BOOST_OUTCOME_TRY(leader, read_status(st.tgid));
  return Process{st.tgid, st.uid, st.euid, st.suid, leader.start_time};
}

Result<Pid> thread_group(Pid tid) {
  BOOST_OUTCOME_TRY(st, read_status(tid));
  return st.tgid;
}

bool running(Pid pid) {
  auto st = read_status(pid);
  return st && st.value().state != 'Z' && st.value().state != 'X';
}

bool has_cap_sys_ptrace(Pid pid) {
  auto caps = read_capabilities(pid);
  constexpr unsigned kCapSysPtrace = 19;  // include/uapi/linux/capability.h
  return caps && (caps.value() >> kCapSysPtrace & 1) != 0;
}

}  // namespace syscg::enforcer
