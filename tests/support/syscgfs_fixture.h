// Integration tests: a real syscgfs mount driven by real shell tools.
//
// Every test acts only through real file operations: bash, coreutils, python3
// and setpriv run against a fresh mount (the Mount fixture), and every process
// a test starts is killed and reaped before the test ends.
//
// The SyscgfsTest fixture and its helpers: shell scripts run in the mount,
// sleeping processes to move, a python poller for cgroup.events.
#pragma once

#include "tests/support/mounted_test.h"

#include <gtest/gtest.h>

#include <csignal>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {

using namespace std::chrono_literals;

inline constexpr int kWidth = 512;           // syscall numbers 0..511
inline constexpr int kRestartSyscall = 219;  // always allowed, never listed as denied

// ---------------------------------------------------------------------------
// Helpers that need no mount.

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `pred` until it holds or the deadline passes (a deadline for waiting,
// never a timing assertion).
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 10s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// How many mounts /proc/self/mountinfo lists at `dir` (unlike a stat, this
// also sees a mount whose daemon is gone).
inline int mount_count(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point == dir) ++count;
  }
  return count;
}

inline bool mounted(const std::string& dir) { return mount_count(dir) > 0; }

// A single-quoted shell word.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// "1 2 3\n" -> {1, 2, 3}
inline std::set<int> parse_list(const std::string& text) {
  std::set<int> out;
  std::istringstream in(text);
  for (int n; in >> n;) out.insert(n);
  return out;
}

// The read-back text of the numbers first..last, restart_syscall left out
// when `skip_restart` (a deny file never lists it).
inline std::string list_text(int first, int last, bool skip_restart = true) {
  std::string out;
  for (int n = first; n <= last; ++n) {
    if (skip_restart && n == kRestartSyscall) continue;
    if (!out.empty()) out += ' ';
    out += std::to_string(n);
  }
  return out + "\n";
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline bool has_line(const std::string& text, const std::string& line) {
  const auto all = lines(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

// A `sleep 100` started by the test itself (optionally as user nobody), in
// no group; killed and reaped when it goes out of scope.
class Sleeper {
 public:
  explicit Sleeper(bool as_nobody = false)
      : child_(as_nobody ? std::vector<std::string>{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                                    "--clear-groups", "/bin/sleep", "100"}
                         : std::vector<std::string>{"/bin/sleep", "100"}) {
    // Wait for the exec, so that the pid names `sleep` with its final uid.
    const std::string comm = "/proc/" + std::to_string(child_.pid()) + "/comm";
    EXPECT_TRUE(eventually([&] { return slurp(comm) == "sleep\n"; })) << "sleep did not start";
  }
  pid_t pid() const { return child_.pid(); }
  std::string id() const { return std::to_string(child_.pid()); }
  // Kills and reaps it now.
  void end() {
    child_.kill(SIGKILL);
    EXPECT_GE(child_.wait_for(10s), 0) << "sleep " << pid() << " did not end";
  }

 private:
  Child child_;
};

// A file path outside the mount, removed on destruction.
class TempPath {
 public:
  explicit TempPath(const std::string& path) : path_(path) {}
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Gives `sig` its default disposition (and unblocks it) while in scope, so a
// daemon started meanwhile installs its handler for it even when this test
// runner was started with the signal ignored (libfuse leaves ignored signals
// alone, and exec keeps them ignored).
class DefaultDisposition {
 public:
  explicit DefaultDisposition(int sig) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig_, &sa, &old_action_);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    sigprocmask(SIG_UNBLOCK, &set, &old_mask_);
  }
  DefaultDisposition(const DefaultDisposition&) = delete;
  DefaultDisposition& operator=(const DefaultDisposition&) = delete;
  ~DefaultDisposition() {
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(sig_, &old_action_, nullptr);
  }

 private:
  int sig_;
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

// Prints "before <events>", then per round "ready N", polls for POLLPRI with
// the timeout, prints "woke" or "timeout" and "after <events>" (re-read at 0).
inline constexpr const char* kPollScript = R"PY(
import os, select, sys
path, timeout, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
print("before", os.read(fd, 100).decode().strip(), flush=True)
p = select.poll()
p.register(fd, select.POLLPRI)
for n in range(1, rounds + 1):
    print("ready", n, flush=True)
    events = p.poll(timeout)
    woke = any(e & select.POLLPRI for _, e in events)
    print("woke" if woke else "timeout", flush=True)
    print("after", os.pread(fd, 100, 0).decode().strip(), flush=True)
)PY";

// ---------------------------------------------------------------------------

class SyscgfsTest : public MountedTest {
 protected:
  // Runs the script with bash (Mount::sh uses /bin/sh, whose echo reports
  // every write error as "I/O error") in the mount.
  RunResult bash(const std::string& script) { return sh("exec bash -c " + quote(script)); }

  // Runs the script in the mount, expects it to succeed, returns its output.
  std::string ok(const std::string& script) {
    auto r = bash(script);
    EXPECT_EQ(r.status, 0) << "script: " << script << "\noutput: " << r.output;
    return r.output;
  }
  // Runs the script in the mount, expects it to fail with strerror(error) in
  // its output (the tools print it: "mkdir: ...: File exists").
  void expect_fails(const std::string& script, int error) {
    auto r = bash(script);
    EXPECT_NE(r.status, 0) << "script: " << script << "\noutput: " << r.output;
    EXPECT_NE(r.output.find(std::strerror(error)), std::string::npos)
        << "script: " << script << "\nexpected: " << std::strerror(error) << "\noutput: " << r.output;
  }
  std::string cat(const std::string& rel) { return ok("cat " + rel); }
  // Runs python3 -c with `code` (the system's python3: a version manager's
  // shim in PATH may take a second to start).
  std::string python(const std::string& code) { return ok("/usr/bin/python3 -c " + quote(code)); }
  // Runs the script as user nobody (group nogroup, no supplementary groups).
  RunResult as_nobody(const std::string& script) {
    return sh("setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c " + quote(script));
  }

  // Starts kPollScript on `rel` (a cgroup.events) with its output in a log.
  std::unique_ptr<Child> start_poller(const TempPath& log, const std::string& rel, int timeout_ms, int rounds) {
    return std::make_unique<Child>(std::vector<std::string>{"/usr/bin/python3", "-c", kPollScript, mount_->path(rel),
                                                            std::to_string(timeout_ms), std::to_string(rounds)},
                                   log.path());
  }
  static bool wait_for_line(const TempPath& log, const std::string& line) {
    return eventually([&] { return has_line(slurp(log.path()), line); });
  }

  // Remounts with `sig` at its default disposition, sends it to the daemon,
  // and expects a clean unmount and exit status 0.
  void expect_signal_unmounts(int sig) {
    {
      DefaultDisposition guard(sig);
      mount_.reset();
      mount_ = std::make_unique<Mount>();
    }
    const std::string dir = mount_->dir();
    EXPECT_EQ(ok("mkdir g && echo 59 > g/syscalls.deny && cat g/syscalls.deny"), "59\n");
    ASSERT_EQ(::kill(mount_->daemon_pid(), sig), 0);
    EXPECT_EQ(mount_->daemon().wait_for(10s), 0) << "syscgfs should exit with status 0 after " << strsignal(sig);
    EXPECT_FALSE(mounted(dir)) << dir << " is still mounted after " << strsignal(sig);
    EXPECT_FALSE(is_mount_point(dir));
    EXPECT_EQ(mount_->log_errors(), "");
    mount_.reset();  // the fixture's cleanup still works
    EXPECT_FALSE(mounted(dir));
    EXPECT_FALSE(exists(dir));
  }
};

}  // namespace syscg::test
