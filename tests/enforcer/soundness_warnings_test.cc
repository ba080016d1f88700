// Attacks on the enforcer's soundness (issue 9). The members are
// tests/victims/attack (C, raw system calls); filters go into them only,
// never into the test runner. Races are run a bounded number of times and
// the invariant is checked on every attempt.
//
// syscalls.warnings, and the daemon's own protection.
#include "tests/support/soundness_fixture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// ================================================================ 8. syscalls.warnings

TEST_F(SoundnessTest, WarningsIsAReadOnlyFileInEveryGroup) {
  mkgroup("g");
  mkgroup("g/sub", "uname");
  for (const std::string g : {"", "g", "g/sub"}) {
    SCOPED_TRACE(g.empty() ? "the root" : g);
    const std::string f = path(g.empty() ? "syscalls.warnings" : g + "/syscalls.warnings");
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f << ": " << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0444u);
    EXPECT_NE(write_file(f, "x\n"), 0) << "read-only";
  }
  EXPECT_EQ(warnings(""), "");
  EXPECT_EQ(warnings("g"), "") << "an empty group";
}

TEST_F(SoundnessTest, WarningsNameDeniedVdsoCalls) {
  mkgroup("one", "clock_gettime");
  EXPECT_TRUE(has_warning_line("one", "vdso 228 ")) << warnings("one");
  mkgroup("all", "96,201,228,309");
  EXPECT_TRUE(has_warning_line("all", "vdso 96,201,228,309 ")) << warnings("all");
  mkgroup("none", "uname");
  EXPECT_EQ(warning_subjects("none", "vdso"), std::vector<std::string>{});
}

TEST_F(SoundnessTest, WarningsNameDeniedIoUringOperations) {
  mkgroup("g", "openat");
  EXPECT_TRUE(has_warning_line("g", "io_uring 257 ")) << warnings("g");
}

TEST_F(SoundnessTest, WarningsNameStricterMembers) {
  mkgroup("g", "uname");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  ASSERT_EQ(deny("g", "59"), 0);
  ASSERT_EQ(allow("g", "59"), 0);
  ASSERT_EQ(stricter("g"), std::to_string(a.pid()) + " 59 tightened\n");
  EXPECT_TRUE(has_warning_line("g", "stricter " + std::to_string(a.pid()) + " ") ||
              warning_names("g", "stricter", a.pid()))
      << warnings("g");
}

TEST_F(SoundnessTest, WarningsNameMembersThatCouldSubvertOthers) {
  mkgroup("g", "uname");
  Attacker a({"serve"});  // root, with CAP_SYS_PTRACE
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  EXPECT_TRUE(warning_names("g", "subvert", a.pid())) << warnings("g");
  ASSERT_EQ(deny("g", "ptrace,process_vm_writev,pidfd_getfd"), 0);
  EXPECT_FALSE(warning_names("g", "subvert", a.pid())) << warnings("g");
}

TEST_F(SoundnessTest, TheDaemonIsNotDumpable) {
  const std::string dir = "/proc/" + std::to_string(mount_->daemon_pid());
  for (const std::string f : {"", "/status", "/environ", "/maps"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir + f).c_str(), &st), 0) << dir + f;
    EXPECT_EQ(st.st_uid, 0u) << dir + f;
    EXPECT_EQ(st.st_gid, 0u) << dir + f;
  }
  EXPECT_NE(sh("setpriv --reuid=nobody --regid=nogroup --clear-groups cat " + dir + "/environ >/dev/null 2>&1").status,
            0);
}

}  // namespace
}  // namespace syscg::test
