// Test support: reading and writing /proc and control files, and waiting
// for a process to reach a state (bounded polls, never a fixed sleep).
#pragma once
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One write(2) of `data`; 0 or the errno.
inline int write_file(const std::string& path, const std::string& data) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = write(fd, data.data(), data.size());
  const int err = n == static_cast<ssize_t>(data.size()) ? 0 : n < 0 ? errno : EIO;
  close(fd);
  return err;
}

inline std::string errno_name(int e) {
  if (e == 0) return "0";
  const char* name = strerrorname_np(e);
  return std::string(name ? name : std::to_string(e)) + " (" + std::strerror(e) + ")";
}

// A field of /proc/PID/status ("Seccomp_filters", "TracerPid"), without the
// tab; nullopt when the process (or the field) does not exist.
inline std::optional<std::string> status_field(const std::string& proc_dir, const std::string& key) {
  std::ifstream in(proc_dir + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(key + ":")) {
      auto v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return std::nullopt;
}
inline std::optional<std::string> status_field(pid_t pid, const std::string& key) {
  return status_field("/proc/" + std::to_string(pid), key);
}

// Seccomp_filters of a process (its leader), -1 when it is gone.
inline int filters(pid_t pid) {
  auto v = status_field(pid, "Seccomp_filters");
  return v ? std::stoi(*v) : -1;
}

inline std::string tracer_pid(pid_t pid) { return status_field(pid, "TracerPid").value_or("<gone>"); }

struct Stat {
  char state;
  pid_t ppid;
  unsigned long flags;
  unsigned long long start_time;
};

// /proc/PID/stat; nullopt when the process is gone.
inline std::optional<Stat> proc_stat(pid_t pid) {
  const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = s.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream in(s.substr(close_paren + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string t; in >> t;) f.push_back(t);
  if (f.size() < 20) return std::nullopt;
  return Stat{f[0][0], static_cast<pid_t>(std::stol(f[1])), std::stoul(f[6]), std::stoull(f[19])};
}

inline std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (const int n = std::atoi(e->d_name); n > 0) out.push_back(n);
    closedir(d);
  }
  return out;
}

// The seccomp listeners (notify fds) process `pid` holds.
inline int listeners_held(pid_t pid) {
  int held = 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (pid_t fd : numeric_entries(dir)) {
    char link[256] = {};
    if (readlink((dir + "/" + std::to_string(fd)).c_str(), link, sizeof link - 1) > 0 &&
        std::string(link).find("seccomp notify") != std::string::npos)
      ++held;
  }
  return held;
}

// Every descendant of `root`, by the ppid chains of one scan of /proc.
inline std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (pid_t p : numeric_entries("/proc"))
    if (auto st = proc_stat(p)) children.emplace(st->ppid, p);
  std::vector<pid_t> out, todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    for (auto [it, end] = children.equal_range(p); it != end; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

// Waits until the process is in state `state` (S: sleeping, e.g. blocked in
// read; D: killable/uninterruptible wait).
inline bool wait_for_state(pid_t pid, char state, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (auto st = proc_stat(pid); st && st->state == state) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

// The system call a task is blocked in: the first field of
// /proc/PID/syscall (or /proc/PID/task/TID/syscall), -1 while it runs or
// when it is gone.
inline long blocked_syscall(const std::string& proc_dir) {
  std::istringstream in(read_file(proc_dir + "/syscall"));
  std::string first;
  if (!(in >> first) || first.empty() || first.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(first);
}

// Waits until the task is asleep (state S) in one of the system calls `nrs`
// (e.g. blocked in read, nanosleep, wait4, poll).
inline bool wait_for_syscall(const std::string& proc_dir, std::initializer_list<long> nrs,
                             std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const long nr = blocked_syscall(proc_dir);
    if (std::find(nrs.begin(), nrs.end(), nr) != nrs.end() &&
        read_file(proc_dir + "/stat").find(") S ") != std::string::npos)
      return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}
inline bool wait_for_syscall(pid_t pid, std::initializer_list<long> nrs, std::chrono::milliseconds timeout = 5s) {
  return wait_for_syscall("/proc/" + std::to_string(pid), nrs, timeout);
}

inline bool contains(const std::vector<pid_t>& v, pid_t p) { return std::find(v.begin(), v.end(), p) != v.end(); }

// Waits (polling with a deadline) until `pid`, a child of ours, is reaped
// (or was already: ECHILD); false at the deadline.
inline bool reaped(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace syscg::test
