// Shared by the enforcer's integration tests (enforcer_test, soundness_test):
// the EnforcerTest fixture (a fresh real mount per test; groups, moves and
// policy writes through it). /proc helpers are in proc.h, victims on pipes in
// victim_driver.h.
#pragma once

#include "tests/support/mounted_test.h"
#include "tests/support/proc.h"
#include "tests/support/victim_driver.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace syscg::test {

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
