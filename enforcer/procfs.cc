#include "enforcer/procfs.h"

#include "enforcer/sys/error.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>

namespace syscg::enforcer {
namespace {

Error gone(Pid tid) { return make_error(Errc::no_process, fmt::format("no process {}", tid)); }

// A small /proc file in one read(2): these reads sit on the path of every
// move and injection (/proc files of a task are produced whole by the first
// read that fits). Empty when the file cannot be read.
std::string_view read_small(const char* path, std::span<char> buf) {
  sys::UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  const ssize_t n = read(fd.get(), buf.data(), buf.size() - 1);
  if (n <= 0) return {};
  buf[static_cast<std::size_t>(n)] = '\0';
  return {buf.data(), static_cast<std::size_t>(n)};
}

// A /proc file of any length (maps, children). Empty when it cannot be read.
std::string read_all(const std::string& path) {
  std::string out;
  sys::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return out;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// The numeric entries of a /proc directory.
std::vector<Pid> numeric_entries(const std::string& path) {
  std::vector<Pid> out;
  sys::UniqueDir d(opendir(path.c_str()));
  if (!d) return out;
  while (dirent* e = readdir(d.get()))
    if (const auto n = parse_number(e->d_name); n && *n > 0) out.push_back(static_cast<Pid>(*n));
  return out;
}

// /proc/TID/status whole: with many supplementary groups it outgrows a page,
// and the fields syscg reads (NoNewPrivs, Seccomp_filters, CapEff) come
// after the Groups line. Empty when it cannot be read.
std::string read_status_text(Pid tid) { return read_all(fmt::format("/proc/{}/status", tid)); }

template <class F>
void each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    if (!f(text.substr(0, eol))) return;
    if (eol == std::string_view::npos) return;
    text.remove_prefix(eol + 1);
  }
}

}  // namespace

Result<ProcStat> read_stat(Pid tid) {
  if (tid <= 0) return gone(tid);
  char path[48];
  char buf[1024];
  std::snprintf(path, sizeof path, "/proc/%d/stat", tid);
  const auto st = parse_stat(read_small(path, buf));
  if (!st) return gone(tid);
  return *st;
}

Result<ProcStatus> read_status(Pid tid) {
  const auto stat_or = read_stat(tid);
  if (!stat_or) return stat_or.error();
  const ProcStat& stat = stat_or.value();
  ProcStatus st{};
  st.tid = tid;
  st.state = stat.state;
  st.ppid = stat.ppid;
  st.kernel_thread = stat.kernel_thread();
  st.start_time = stat.start_time;
  const std::string text = read_status_text(tid);
  const auto tgid = status_field(text, "Tgid");
  const auto uid = status_field(text, "Uid");
  if (!tgid || !uid) return gone(tid);
  const auto tgid_n = parse_number(*tgid);
  std::string_view rest = *uid;
  const auto real = parse_number(rest, 10, &rest);
  const auto effective = parse_number(rest, 10, &rest);
  const auto saved = parse_number(rest, 10, &rest);
  if (!tgid_n || !real || !effective || !saved) return gone(tid);
  st.tgid = static_cast<Pid>(*tgid_n);
  st.uid = static_cast<uid_t>(*real);
  st.euid = static_cast<uid_t>(*effective);
  st.suid = static_cast<uid_t>(*saved);
  return st;
}

Result<SeccompState> read_seccomp(Pid tid) {
  const std::string text = read_status_text(tid);
  const auto nnp = status_field(text, "NoNewPrivs");
  const auto filters = status_field(text, "Seccomp_filters");
  const auto nnp_n = nnp ? parse_number(*nnp) : std::nullopt;
  const auto filters_n = filters ? parse_number(*filters) : std::nullopt;
  if (!nnp_n || !filters_n) return gone(tid);
  return SeccompState{*nnp_n != 0, static_cast<unsigned>(*filters_n)};
}

Result<std::uint64_t> read_capabilities(Pid pid) {
  const std::string text = read_status_text(pid);
  const auto caps = status_field(text, "CapEff");
  const auto n = caps ? parse_number(*caps, 16) : std::nullopt;
  if (!n) return gone(pid);
  return *n;
}

Result<Pid> read_tracer(Pid tid) {
  const std::string text = read_status_text(tid);
  const auto tracer = status_field(text, "TracerPid");
  const auto n = tracer ? parse_number(*tracer) : std::nullopt;
  if (!n) return gone(tid);
  return static_cast<Pid>(*n);
}

std::vector<Pid> threads_of(Pid tgid) { return numeric_entries(fmt::format("/proc/{}/task", tgid)); }

std::set<Pid> children_of(Pid tgid) {
  std::set<Pid> out;
  for (Pid t : threads_of(tgid)) {
    const std::string text = read_all(fmt::format("/proc/{}/task/{}/children", tgid, t));
    std::string_view rest = text;
    while (const auto c = parse_number(rest, 10, &rest)) out.insert(static_cast<Pid>(*c));
  }
  return out;
}

bool in_thread_group(Pid tgid, Pid tid) {
  return access(fmt::format("/proc/{}/task/{}", tgid, tid).c_str(), F_OK) == 0;
}

Result<std::vector<Pid>> all_processes() {
  sys::UniqueDir d(opendir("/proc"));
  if (!d) return sys::sys_error(Errc::io, "opendir /proc");
  std::vector<Pid> out;
  while (dirent* e = readdir(d.get()))
    if (const auto n = parse_number(e->d_name); n && *n > 0) out.push_back(static_cast<Pid>(*n));
  return out;
}

std::optional<Range> vdso_of(Pid tid) {
  std::optional<Range> found;
  each_line(read_all(fmt::format("/proc/{}/maps", tid)), [&](std::string_view line) {
    if (line.ends_with("[vdso]")) found = parse_maps_range(line);
    return !found;
  });
  return found;
}

bool holds_io_uring(Pid tgid) {
  // The kernel names an io_uring file "anon_inode:[io_uring]" (io_uring.c:
  // anon_inode_create_getfile("[io_uring]", ...)), in fd links and in maps.
  constexpr std::string_view kRing = "anon_inode:[io_uring]";
  // maps is empty when the mm it opened is gone by the read: an execve
  // between our open and read drops the old mm (m_start's mmget_not_zero
  // fails). The mm an exec installs has its stack mapped from the start, so
  // a new open sees it; empty every time means gone, or an exec loop: counts
  // as holding one (fail closed).
  std::string maps;
  for (int attempt = 0; attempt < 4 && maps.empty(); ++attempt) maps = read_all(fmt::format("/proc/{}/maps", tgid));
  if (maps.empty()) return true;
  bool found = false;
  each_line(maps, [&](std::string_view line) {
    found = line.ends_with(kRing);
    return !found;
  });
  if (found) return true;
  const std::string tasks = fmt::format("/proc/{}/task", tgid);
  sys::UniqueDir td(opendir(tasks.c_str()));
  if (!td) return true;
  while (dirent* t = readdir(td.get())) {
    if (t->d_name[0] == '.') continue;
    // io_uring's own threads run in the process's thread group: an SQPOLL
    // thread ("iou-sqp-PID") runs what is written into its ring whether or
    // not any fd or mapping is left (a ring may live on in the table of
    // registered ring fds, or in flight in a socket), and io-wq workers
    // ("iou-wrk-PID") run requests already submitted.
    char comm[32] = {};
    const std::string comm_path = tasks + "/" + t->d_name + "/comm";
    if (std::string_view name = read_small(comm_path.c_str(), comm);
        name.starts_with("iou-sqp-") || name.starts_with("iou-wrk-"))
      return true;
    const std::string fds = tasks + "/" + t->d_name + "/fd";
    sys::UniqueDir fd(opendir(fds.c_str()));
    if (!fd) continue;  // the thread exited meanwhile
    while (dirent* e = readdir(fd.get())) {
      if (e->d_name[0] == '.') continue;
      char target[64] = {};
      const ssize_t n = readlinkat(dirfd(fd.get()), e->d_name, target, sizeof target - 1);
      if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == kRing) return true;
    }
  }
  return false;
}

}  // namespace syscg::enforcer
