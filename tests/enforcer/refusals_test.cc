// Integration tests of the enforcer, refusals: the cgroup.procs writes the
// enforcer refuses (traced targets, the daemon, the test runner, kernel
// threads, other users' processes, unstoppable targets). The test runner's
// own pid goes only to a group that allows everything
// (RefusesTheTestRunnerWhichIsTheDaemonsAncestor), where no filter could be
// installed even if the check under test were broken.
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

TEST_F(EnforcerTest, RefusesATargetTracedByAnotherTracer) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  Victim tracer({"trace", std::to_string(v.pid())});
  ASSERT_EQ(tracer.read_line(), "ready");
  EXPECT_EQ(errno_name(move(v.pid(), "g")), errno_name(EBUSY));
  EXPECT_FALSE(contains(members("g"), v.pid()));
  EXPECT_EQ(tracer_pid(v.pid()), std::to_string(tracer.pid()));
  EXPECT_EQ(filters(v.pid()), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(v.child().poll(), -1);
}

TEST_F(EnforcerTest, RefusesTheDaemonItself) {
  mkgroup("g", "getppid");
  EXPECT_EQ(errno_name(move(mount_->daemon_pid(), "g")), errno_name(EINVAL));
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
  EXPECT_EQ(filters(mount_->daemon_pid()), 0);
  EXPECT_EQ(mount_->daemon().poll(), -1);
  mkgroup("still-works");
}

TEST_F(EnforcerTest, RefusesTheTestRunnerWhichIsTheDaemonsAncestor) {
  // A group that allows everything: even a broken check could not filter us.
  mkgroup("open");
  ASSERT_EQ(read_file(path("open/syscalls.deny")), "\n");
  EXPECT_EQ(errno_name(move(getpid(), "open")), errno_name(EINVAL));
  EXPECT_EQ(members("open"), std::vector<pid_t>{});
  EXPECT_EQ(filters(getpid()), 0);
  EXPECT_EQ(tracer_pid(getpid()), "0");
}

TEST_F(EnforcerTest, RefusesAKernelThread) {
  auto st = proc_stat(2);
  constexpr unsigned long kPfKthread = 0x00200000;
  if (!st || (st->flags & kPfKthread) == 0) GTEST_SKIP() << "pid 2 is not a kernel thread here (pid namespace?)";
  mkgroup("g", "getppid");
  EXPECT_EQ(errno_name(move(2, "g")), errno_name(EINVAL));
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
}

TEST_F(EnforcerTest, RefusesAWriterThatIsNeitherRootNorTheTargetsOwner) {
  mkgroup("g", "getppid");
  ASSERT_EQ(::chmod(path("g/cgroup.procs").c_str(), 0666), 0) << std::strerror(errno);
  Victim v({"serve"});  // runs as root
  ASSERT_EQ(v.read_line(), "ready");
  const auto r = sh("setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c 'echo " + std::to_string(v.pid()) +
                    " > g/cgroup.procs'");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_FALSE(contains(members("g"), v.pid()));
  EXPECT_EQ(filters(v.pid()), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
}

TEST_F(EnforcerTest, RefusesATargetThatCannotBeStoppedInTime) {
  mkgroup("g", "getppid");
  Victim v({"vfork", "4000"});  // the parent waits killably for its vfork child
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_TRUE(wait_for_state(v.pid(), 'D')) << "the parent never blocked in vfork";
  EXPECT_EQ(errno_name(move(v.pid(), "g")), errno_name(EAGAIN));
  EXPECT_FALSE(contains(members("g"), v.pid()));
  EXPECT_EQ(filters(v.pid()), 0);
  // The kernel detaches only stopped tracees: the daemon lets go of this one
  // when the pending interrupt finally stops it. Left running: once its
  // vfork child ends it returns normally.
  EXPECT_EQ(v.child().wait_for(6s), 0) << "state " << (proc_stat(v.pid()) ? proc_stat(v.pid())->state : '?')
                                       << ", TracerPid " << tracer_pid(v.pid());
  release_from_daemon(v.child());
}

}  // namespace
}  // namespace syscg::test
