// Shared by the enforcer's integration tests (enforcer_test, soundness_test):
// /proc helpers, victims on pipes, and the EnforcerTest fixture (a fresh real
// mount per test; groups, moves and policy writes through it). Moved out of
// enforcer_test.cc unchanged.
#pragma once

#include "tests/support/mounted_test.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- /proc

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

inline bool contains(const std::vector<pid_t>& v, pid_t p) { return std::find(v.begin(), v.end(), p) != v.end(); }

// ---------------------------------------------------------------- victims

// A program with pipes to its stdin and from its stdout, answering lines.
class PipedProgram {
 public:
  explicit PipedProgram(const std::vector<std::string>& argv) : child_(argv, Piped{}) {}

  pid_t pid() const { return child_.pid(); }
  Child& child() { return child_; }

  bool send(const std::string& line) {
    const std::string s = line + "\n";
    return write(child_.in_fd(), s.data(), s.size()) == static_cast<ssize_t>(s.size());
  }
  // The next line without its newline, or "<eof>" / "<no line within N ms>".
  std::string read_line(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return "<no line within " + std::to_string(timeout.count()) + " ms>";
      pollfd p{child_.out_fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[512];
      const ssize_t n = read(child_.out_fd(), chunk, sizeof chunk);
      if (n == 0) return "<eof>";
      if (n > 0) buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // `serve` mode: makes the call and returns the victim's answer line.
  std::string ask(const std::string& call) {
    if (!send(call)) return "<send failed>";
    return read_line();
  }
  void close_stdin() { child_.close_in(); }

 private:
  Child child_;
  std::string buf_;
};

// tests/victims/victim with pipes to its stdin and from its stdout.
class Victim : public PipedProgram {
 public:
  // `prefix` runs before the victim and must exec it (e.g. setpriv ...).
  explicit Victim(const std::vector<std::string>& args, const std::vector<std::string>& prefix = {})
      : PipedProgram(argv(args, prefix)) {}

 private:
  static std::vector<std::string> argv(const std::vector<std::string>& args, const std::vector<std::string>& prefix) {
    std::vector<std::string> v = prefix;
    v.push_back(victim_binary());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
};

inline const std::vector<std::string> kAsNobody{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"};

// ---------------------------------------------------------------- fixture

class EnforcerTest : public MountedTest {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }  // a victim that died must fail a send, not us

  // Creates group `name`; `deny` (a syscalls.deny command) when given.
  void mkgroup(const std::string& name, const std::string& deny_list = "") {
    ASSERT_EQ(::mkdir(path(name).c_str(), 0755), 0) << name << ": " << std::strerror(errno);
    if (!deny_list.empty()) {
      ASSERT_EQ(errno_name(deny(name, deny_list)), "0") << "deny " << deny_list;
    }
  }
  int deny(const std::string& group, const std::string& list) {
    return write_file(path(group + "/syscalls.deny"), list + "\n");
  }
  int allow(const std::string& group, const std::string& list) {
    return write_file(path(group + "/syscalls.allow"), list + "\n");
  }
  // Writes `pid` to GROUP/cgroup.procs; 0 or the errno.
  int move(pid_t pid, const std::string& group) {
    return write_file(path(group + "/cgroup.procs"), std::to_string(pid) + "\n");
  }
  std::vector<pid_t> members(const std::string& group) {
    std::istringstream in(read_file(path(group + "/cgroup.procs")));
    std::vector<pid_t> out;
    for (pid_t p; in >> p;) out.push_back(p);
    return out;
  }

  // A victim the daemon failed to detach from stays traced by it: it stops
  // for good, and even killed it cannot be reaped by its parent (us) while
  // its tracer lives. Unmounts (ending the daemon) in that case, so that the
  // test fails instead of hanging in ~Child.
  void release_from_daemon(Child& c) {
    if (c.poll() >= 0) return;
    c.kill(SIGKILL);
    if (c.wait_for(2s) >= 0) return;
    EXPECT_EQ(mount_->log_errors(), "") << "the daemon logged errors";
    mount_.reset();
  }

};

#define EXPECT_MOVED(pid, group) EXPECT_EQ(errno_name(move(pid, group)), "0")
#define ASSERT_MOVED(pid, group) ASSERT_EQ(errno_name(move(pid, group)), "0")

}  // namespace syscg::test
