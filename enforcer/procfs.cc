#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>

namespace syscg::enforcer {
namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h

Error gone(Pid tid) { return make_error(Errc::no_process, fmt::format("no process {}", tid)); }

}  // namespace

Result<ProcStatus> read_status(Pid tid) {
  if (tid <= 0) return gone(tid);
  ProcStatus st{};
  st.tid = tid;
  // /proc/TID/stat: "pid (comm) state ppid ...": comm may hold spaces and
  // parentheses, so parse from the last ')'.
  std::ifstream stat_file(fmt::format("/proc/{}/stat", tid));
  std::string stat;
  if (!stat_file || !std::getline(stat_file, stat)) return gone(tid);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return gone(tid);
  std::istringstream fields(stat.substr(close + 2));
  unsigned long flags = 0;
  std::string skip;
  fields >> st.state >> st.ppid;
  for (int i = 5; i <= 8; ++i) fields >> skip;  // pgrp session tty_nr tpgid
  fields >> flags;                              // field 9
  for (int i = 10; i <= 21; ++i) fields >> skip;
  fields >> st.start_time;  // field 22
  if (!fields) return gone(tid);
  st.kernel_thread = (flags & kPfKthread) != 0;

  std::ifstream status_file(fmt::format("/proc/{}/status", tid));
  bool have_tgid = false, have_uid = false;
  for (std::string line; std::getline(status_file, line);) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "Tgid:") have_tgid = static_cast<bool>(in >> st.tgid);
    else if (key == "Uid:") have_uid = static_cast<bool>(in >> st.uid >> st.euid >> st.suid);
  }
  if (!have_tgid || !have_uid) return gone(tid);
  return st;
}

}  // namespace syscg::enforcer
