// Integration tests of the enforcer, launch: `syscg exec GROUP -- CMD` runs
// CMD filtered from its first instruction; its exit statuses; the daemon
// started in the background. Real processes, the real kernel's seccomp, a
// real syscgfs mount.
#include "tests/support/enforcer_fixture.h"

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
namespace {

TEST_F(EnforcerTest, LaunchedProcessIsFilteredFromItsFirstInstruction) {
  ASSERT_EQ(sh("mkdir web && echo getppid > web/syscalls.deny").status, 0);
  auto r = sh(syscg_binary() + " exec -m . web -- " + victim_binary() + " probe getppid uname");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "getppid EPERM\nuname ok\n");
}

TEST_F(EnforcerTest, ExecPassesTheCommandsExitStatusThrough) {
  mkgroup("web", "getppid");
  EXPECT_EQ(sh(syscg_binary() + " exec -m . web -- sh -c 'exit 7'").status, 7);
  EXPECT_EQ(sh(syscg_binary() + " exec -m . web -- sh -c 'exit 0'").status, 0);
  mkgroup("open");
  EXPECT_EQ(sh(syscg_binary() + " exec -m " + mount_->dir() + " /open -- sh -c 'exit 3'").status, 3);
}

// The README's promise: syscg's own failures (usage, group) exit 125, a
// command that cannot be run 126, one that is not found 127.
constexpr int kOwnFailure = 125, kCannotRun = 126, kNotFound = 127;

TEST_F(EnforcerTest, ExecErrorsAreOneLineOnStderrWithNonZeroStatus) {
  mkgroup("web", "getppid");
  const std::string exec = syscg_binary() + " exec -m . ";
  struct Case {
    std::string cmd, mentions;
    int status;
  };
  const std::vector<Case> cases{
      {exec + "nosuch -- /bin/true", "nosuch", kOwnFailure},              // unknown group
      {exec + "web --", "usage", kOwnFailure},                            // missing command
      {exec + "web", "usage", kOwnFailure},                               // missing -- and command
      {exec + "web /bin/true", "usage", kOwnFailure},                     // missing --
      {exec + "web -- /nonexistent/command", "/nonexistent", kNotFound},  // command not found
      {syscg_binary() + " exec -m /nonexistent-mount web -- /bin/true", "web", kOwnFailure},
  };
  for (const auto& [cmd, mentions, status] : cases) {
    SCOPED_TRACE(cmd);
    const auto r = sh(cmd + " 2>&1 >/dev/null");  // stderr only
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.status, status) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_TRUE(r.output.ends_with("\n")) << r.output;
    EXPECT_TRUE(r.output.starts_with("syscg: ")) << r.output;
    EXPECT_NE(r.output.find(mentions), std::string::npos) << r.output;
  }
  EXPECT_EQ(members("web"), std::vector<pid_t>{});
}

// 125: a group exec cannot join. Usage errors outside exec (no arguments
// at all, an unknown command) are status 2, as for every other command.
TEST_F(EnforcerTest, ExecExits125ForItsOwnFailures) {
  mkgroup("web", "getppid");
  auto r = sh(syscg_binary() + " 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("usage"), std::string::npos) << r.output;
  r = sh(syscg_binary() + " frobnicate web -- /bin/true 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(r.output.starts_with("syscg: ")) << r.output;
  EXPECT_NE(r.output.find("frobnicate"), std::string::npos) << r.output;
  // A path that names a control file, not a group: cannot be joined.
  r = sh(syscg_binary() + " exec -m . web/syscalls.deny -- /bin/true 2>&1 >/dev/null");
  EXPECT_EQ(r.status, kOwnFailure) << r.output;
  EXPECT_TRUE(r.output.starts_with("syscg: ")) << r.output;
  // And --help is no failure.
  r = sh(syscg_binary() + " --help");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(members("web"), std::vector<pid_t>{});
}

// 126: the command exists but cannot be executed (not executable, a
// directory, or a group that denies execve).
TEST_F(EnforcerTest, ExecExits126WhenTheCommandCannotBeRun) {
  mkgroup("web", "getppid");
  mkgroup("noexec", "execve");
  const std::string exec = syscg_binary() + " exec -m . ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {exec + "web -- /etc/passwd", std::strerror(EACCES)},  // not executable
      {exec + "web -- /tmp", std::strerror(EACCES)},         // a directory
      {exec + "noexec -- /bin/true", std::strerror(EPERM)},  // execve denied
      {exec + "noexec -- " + victim_binary() + " probe uname", std::strerror(EPERM)},
  };
  for (const auto& [cmd, mentions] : cases) {
    SCOPED_TRACE(cmd);
    const auto r = sh(cmd + " 2>&1 >/dev/null");  // stderr only
    EXPECT_EQ(r.status, kCannotRun) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_TRUE(r.output.starts_with("syscg: cannot run ")) << r.output;
    EXPECT_NE(r.output.find(mentions), std::string::npos) << r.output;
  }
  EXPECT_EQ(members("web"), std::vector<pid_t>{});
  EXPECT_EQ(members("noexec"), std::vector<pid_t>{});
}

// 127: the command is not found, as a path or through PATH.
TEST_F(EnforcerTest, ExecExits127WhenTheCommandIsNotFound) {
  mkgroup("web", "getppid");
  const std::string exec = syscg_binary() + " exec -m . ";
  for (const std::string cmd : {"/nonexistent/command", "syscg-no-such-command", "./no-such-file"}) {
    SCOPED_TRACE(cmd);
    const auto r = sh(exec + "web -- " + cmd + " 2>&1 >/dev/null");  // stderr only
    EXPECT_EQ(r.status, kNotFound) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find(cmd), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::strerror(ENOENT)), std::string::npos) << r.output;
  }
  EXPECT_EQ(members("web"), std::vector<pid_t>{});
}

// The daemon forks into the background (no -f): the enforcer's threads must
// be started in the daemonized process, not left behind in its parent.
TEST(EnforcerDaemonTest, EnforcesWhenDaemonized) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts with allow_other and ptraces victims";
  std::string dir = "/tmp/syscgfs-daemon-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      sh("fusermount3 -u -z '" + dir + "' 2>/dev/null; true");
      rmdir(dir.c_str());
      unlink((dir + ".state").c_str());
    }
  } cleanup{dir};
  const auto start = sh(syscgfs_binary() + " " + dir + " -o state=" + dir + ".state");
  ASSERT_EQ(start.status, 0) << start.output;
  ASSERT_TRUE(is_mount_point(dir));
  ASSERT_EQ(sh("mkdir g && echo getppid > g/syscalls.deny", dir).status, 0);
  const auto r = sh("timeout 10 " + syscg_binary() + " exec -m . g -- " + victim_binary() + " probe getppid", dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "getppid EPERM\n");
  // Unmounting ends the daemon.
  EXPECT_EQ(sh("rmdir g", dir).status, 0);
  EXPECT_EQ(sh("fusermount3 -u '" + dir + "'").status, 0);
}

}  // namespace
}  // namespace syscg::test
