#include "enforcer/procfs.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <span>
#include <string_view>
#include <unistd.h>
#include <sstream>
#include <string>

namespace syscg::enforcer {
namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h

Error gone(Pid tid) { return make_error(Errc::no_process, fmt::format("no process {}", tid)); }

}  // namespace

// A small /proc file in one read(2): these reads sit on the path of every
// move and injection. Empty when the file cannot be read.
namespace {
std::string_view read_small(const char* path, std::span<char> buf) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t n = read(fd, buf.data(), buf.size() - 1);
  close(fd);
  if (n <= 0) return {};
  buf[static_cast<std::size_t>(n)] = '\0';
  return {buf.data(), static_cast<std::size_t>(n)};
}
}  // namespace

Result<ProcStatus> read_status(Pid tid) {
  if (tid <= 0) return gone(tid);
  ProcStatus st{};
  st.tid = tid;
  char path[48];
  char buf[4096];
  // /proc/TID/stat: "pid (comm) state ppid ...": comm may hold spaces and
  // parentheses, so parse from the last ')'.
  std::snprintf(path, sizeof path, "/proc/%d/stat", tid);
  const std::string_view stat = read_small(path, buf);
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string_view::npos || close_paren + 2 >= stat.size()) return gone(tid);
  std::istringstream fields{std::string(stat.substr(close_paren + 2))};
  unsigned long flags = 0;
  std::string skip;
  fields >> st.state >> st.ppid;
  for (int i = 5; i <= 8; ++i) fields >> skip;  // pgrp session tty_nr tpgid
  fields >> flags;                              // field 9
  for (int i = 10; i <= 21; ++i) fields >> skip;
  fields >> st.start_time;  // field 22
  if (!fields) return gone(tid);
  st.kernel_thread = (flags & kPfKthread) != 0;

  std::snprintf(path, sizeof path, "/proc/%d/status", tid);
  if (read_small(path, buf).empty()) return gone(tid);
  const char* tgid = std::strstr(buf, "\nTgid:");
  const char* uid = std::strstr(buf, "\nUid:");
  if (!tgid || !uid) return gone(tid);
  st.tgid = static_cast<Pid>(std::strtol(tgid + 6, nullptr, 10));
  char* end = nullptr;
  st.uid = static_cast<uid_t>(std::strtoul(uid + 5, &end, 10));
  st.euid = static_cast<uid_t>(std::strtoul(end, &end, 10));
  st.suid = static_cast<uid_t>(std::strtoul(end, &end, 10));
  return st;
}

Result<SeccompState> read_seccomp(Pid tid) {
  char path[48];
  char buf[4096];
  std::snprintf(path, sizeof path, "/proc/%d/status", tid);
  if (read_small(path, buf).empty()) return gone(tid);
  const char* nnp = std::strstr(buf, "\nNoNewPrivs:");
  const char* filters = std::strstr(buf, "\nSeccomp_filters:");
  if (!nnp || !filters) return gone(tid);
  return SeccompState{std::strtoul(nnp + 12, nullptr, 10) != 0,
                      static_cast<unsigned>(std::strtoul(filters + 17, nullptr, 10))};
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
    // io_uring's own threads run in the process's thread group: an SQPOLL
    // thread ("iou-sqp-PID") runs what is written into its ring whether or
    // not any fd or mapping is left (a ring may live on in the table of
    // registered ring fds, or in flight in a socket), and io-wq workers
    // ("iou-wrk-PID") run requests already submitted.
    char comm[32] = {};
    const std::string comm_path = tasks + "/" + t->d_name + "/comm";
    if (std::string_view name = read_small(comm_path.c_str(), comm);
        name.starts_with("iou-sqp-") || name.starts_with("iou-wrk-")) {
      found = true;
      break;
    }
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
