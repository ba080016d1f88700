#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <string_view>
#include <unistd.h>
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

Result<std::uint64_t> read_capabilities(Pid pid) {
  std::ifstream status_file(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status_file, line);)
    if (line.starts_with("CapEff:")) {
      std::uint64_t caps = 0;
      std::istringstream(line.substr(7)) >> std::hex >> caps;
      return caps;
    }
  return gone(pid);
}

bool holds_io_uring(Pid tgid) {
  // The kernel names an io_uring file "anon_inode:[io_uring]" (io_uring.c:
  // anon_inode_create_getfile("[io_uring]", ...)), in fd links and in maps.
  constexpr std::string_view kRing = "anon_inode:[io_uring]";
  {
    std::ifstream maps(fmt::format("/proc/{}/maps", tgid));
    if (!maps) return true;
    for (std::string line; std::getline(maps, line);)
      if (line.ends_with(kRing)) return true;
  }
  const std::string tasks = fmt::format("/proc/{}/task", tgid);
  DIR* td = opendir(tasks.c_str());
  if (!td) return true;
  bool found = false;
  while (dirent* t = readdir(td)) {
    if (t->d_name[0] == '.') continue;
    const std::string fds = tasks + "/" + t->d_name + "/fd";
    DIR* fd = opendir(fds.c_str());
    if (!fd) continue;  // the thread exited meanwhile
    while (dirent* e = readdir(fd)) {
      if (e->d_name[0] == '.') continue;
      char target[64] = {};
      const ssize_t n = readlinkat(dirfd(fd), e->d_name, target, sizeof target - 1);
      if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == kRing) found = true;
    }
    closedir(fd);
    if (found) break;
  }
  closedir(td);
  return found;
}

}  // namespace syscg::enforcer
