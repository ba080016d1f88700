// Attacks on the enforcer's soundness (issue 9): ways for a member to leave
// its group, to escape a tightening, to be decided by someone else's policy,
// to keep calls the policy denies through io_uring or wide arguments, or to
// make a tightening impossible; and the warnings syscgfs gives. The members
// are tests/victims/attack (C, raw system calls); filters go into them only,
// never into the test runner. Races are run a bounded number of times and
// the invariant is checked on every attempt.
//
// The fixtures of soundness_test: the attack driver (Attacker), small text
// helpers, SoundnessTest and IoUringTest. Needs ATTACK_BINARY defined.
#pragma once

#include "tests/support/enforcer_fixture.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace syscg::test {

inline std::string attack_binary() { return ATTACK_BINARY; }

// tests/victims/attack on pipes. It leads its own process group, which is
// killed with it: no child or orphan of an attack outlives its test.
class Attacker : public PipedProgram {
 public:
  explicit Attacker(const std::vector<std::string>& args) : PipedProgram(argv(args)) {}
  Attacker(const Attacker&) = delete;
  Attacker& operator=(const Attacker&) = delete;
  ~Attacker() {
    // Only while its pid is still ours (running, or a zombie not reaped).
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0) ::kill(-pid(), SIGKILL);
  }

 private:
  static std::vector<std::string> argv(const std::vector<std::string>& args) {
    std::vector<std::string> v{attack_binary()};
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
};

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

inline std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The value of `key=VALUE` among the words of `line`, or "".
inline std::string field(const std::string& line, const std::string& key) {
  for (const auto& w : words(line))
    if (w.starts_with(key + "=")) return w.substr(key.size() + 1);
  return "";
}

// Whether the main thread of `pid` has exited while other threads run on.
inline bool is_zombie_leader(pid_t pid) {
  auto st = proc_stat(pid);
  return st && st->state == 'Z';
}

class SoundnessTest : public EnforcerTest {
 protected:
  std::string stricter(const std::string& group) { return read_file(path(group + "/syscalls.stricter")); }
  std::string warnings(const std::string& group) { return read_file(path(group + "/syscalls.warnings")); }
  std::string procs(const std::string& group) { return path(group.empty() ? "cgroup.procs" : group + "/cgroup.procs"); }

  // The SUBJECTs of the group's warnings tagged `tag` (`TAG SUBJECT FIX`).
  std::vector<std::string> warning_subjects(const std::string& group, const std::string& tag) {
    std::vector<std::string> out;
    for (const auto& line : split(warnings(group), '\n'))
      if (line.starts_with(tag + " ")) {
        const auto w = words(line);
        out.push_back(w.size() > 1 ? w[1] : "");
      }
    return out;
  }
  // Whether a warning tagged `tag` names `pid` in its comma-separated SUBJECT.
  bool warning_names(const std::string& group, const std::string& tag, pid_t pid) {
    for (const auto& subject : warning_subjects(group, tag))
      for (const auto& p : split(subject, ','))
        if (p == std::to_string(pid)) return true;
    return false;
  }
  bool has_warning_line(const std::string& group, const std::string& prefix) {
    for (const auto& line : split(warnings(group), '\n'))
      if (line.starts_with(prefix)) return true;
    return false;
  }

  // A pid the member reported for a child the kernel made ours (CLONE_PARENT
  // got through): reap it, so that no child of the test runner is left.
  static void reap_reported(const std::string& answer) {
    const auto w = words(answer);
    if (w.size() == 3 && w[1] == "ok") {
      const pid_t c = std::atoi(w[2].c_str());
      if (c > 0) waitpid(c, nullptr, __WALL);
    }
  }
};

class IoUringTest : public SoundnessTest {
 protected:
  void SetUp() override {
    SoundnessTest::SetUp();
    if (IsSkipped()) return;
    if (read_file("/proc/sys/kernel/io_uring_disabled").starts_with("2"))
      GTEST_SKIP() << "io_uring is disabled on this machine (kernel.io_uring_disabled=2)";
    file_ = mount_->dir() + ".uring-file";
    std::ofstream(file_) << "syscg-io-uring\n";
  }
  void TearDown() override {
    if (!file_.empty()) unlink(file_.c_str());
    SoundnessTest::TearDown();
  }
  std::string file_;
};

// Ring operations run in the kernel without a system call of their own:

}  // namespace syscg::test
