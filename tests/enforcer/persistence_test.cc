// Integration tests of the enforcer, persistence: the tree, policies and
// members survive the daemon through its state file (issue 5 §6).

#include "tests/support/persistence_fixture.h"

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

TEST_F(PersistenceTest, ARestartKeepsTreePoliciesLimitsModesAndMembers) {
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  {
    auto m = mount();
    ASSERT_EQ(m->sh("mkdir g g/sub && chmod 0700 g && echo getppid > g/syscalls.deny && "
                    "echo 3 > g/cgroup.max.depth && echo " +
                    std::to_string(v.pid()) + " > g/sub/cgroup.procs")
                  .status,
              0);
    ASSERT_EQ(v.ask("getppid"), "getppid EPERM");
  }  // unmounted, daemon gone
  auto m = mount();
  EXPECT_EQ(m->sh("stat -c %a g").output, "700\n");
  EXPECT_EQ(m->sh("cat g/syscalls.deny g/sub/syscalls.deny g/cgroup.max.depth").output, "110\n110\n3\n");
  EXPECT_EQ(m->sh("cat g/sub/cgroup.procs").output, std::to_string(v.pid()) + "\n");  // re-adopted
  // Its filter never went away; the old supervisor did, so the kernel now
  // fails the routed call with ENOSYS: still denied, for good.
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  EXPECT_EQ(m->sh("echo uname > g/syscalls.deny").status, 0);  // it is tightened again,
  EXPECT_EQ(v.ask("uname"), "uname EPERM");
  // by an ERRNO filter: the old supervised filter refuses a second listener
  // (one of the member's own could otherwise answer what it routed).
  ASSERT_EQ(m->sh("echo getppid,uname > g/syscalls.allow && echo getppid,uname > g/sub/syscalls.allow").status, 0);
  EXPECT_EQ(v.ask("uname"), "uname EPERM");
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  EXPECT_EQ(m->sh("cat g/sub/syscalls.stricter").output, std::to_string(v.pid()) + " 63,110 daemon-restarted\n");
}

TEST_F(PersistenceTest, NumbersLostWithTheOldSupervisorAreReportedAfterARestart) {
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  {
    auto m = mount();
    ASSERT_EQ(m->sh("mkdir g && echo getppid > g/syscalls.deny && echo " + std::to_string(v.pid()) +
                    " > g/cgroup.procs && echo getppid > g/syscalls.allow")
                  .status,
              0);
    ASSERT_EQ(v.ask("getppid"), "getppid ok");  // routed, and allowed again
  }
  auto m = mount();
  // The new daemon reads the member's filters back from the kernel: getppid
  // is routed to a listener that closed with the old daemon.
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  EXPECT_EQ(m->sh("cat g/syscalls.stricter").output, std::to_string(v.pid()) + " 110 daemon-restarted\n");
}

TEST_F(PersistenceTest, AnExitedMemberOrARecycledPidIsNotAdopted) {
  pid_t gone;
  {
    Victim v({"serve"});
    ASSERT_EQ(v.read_line(), "ready");
    gone = v.pid();
    auto m = mount();
    ASSERT_EQ(m->sh("mkdir g && echo " + std::to_string(gone) + " > g/cgroup.procs").status, 0);
  }  // the victim is killed and reaped with its Child
  auto m = mount();
  EXPECT_EQ(m->sh("cat g/cgroup.procs").output, "");
}

TEST_F(PersistenceTest, ACorruptStateStopsTheDaemonUnlessToldToStartFresh) {
  std::ofstream(state_) << "syscg-state 1\ngroup 00\nend 0000000000000000\n";
  char templ[] = "/tmp/syscgfs-corrupt-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const auto r = sh("timeout 10 " + syscgfs_binary() + " " + templ + " -o state=" + state_ + " 2>&1 >/dev/null", "/");
  rmdir(templ);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("corrupt"), std::string::npos) << r.output;
  auto m = mount({"-o", "fresh"});
  EXPECT_EQ(m->sh("ls -d */ 2>/dev/null | wc -l").output, "0\n");
  EXPECT_EQ(::access((state_ + ".corrupt").c_str(), F_OK), 0) << "the corrupt file must be kept aside";
}

// A state file that cannot be read (here a directory: read(2) gives
// EISDIR) is not a corrupt one: even with -o fresh the daemon refuses to
// start and sets nothing aside.
TEST_F(PersistenceTest, AnUnreadableStateStopsTheDaemonEvenWhenToldToStartFresh) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
  char templ[] = "/tmp/syscgfs-unreadable-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const auto r =
      sh("timeout 10 " + syscgfs_binary() + " " + templ + " -o state=" + state_ + " -o fresh 2>&1 >/dev/null", "/");
  rmdir(templ);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("unreadable state"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("EISDIR"), std::string::npos) << r.output;
  struct stat st {};
  EXPECT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << "the state must be left where it is";
  EXPECT_NE(::access((state_ + ".corrupt").c_str(), F_OK), 0) << "nothing is set aside";
  ::rmdir(state_.c_str());
}

TEST_F(PersistenceTest, AKillMinus9LosesNoAcknowledgedWrite) {
  {
    auto m = mount();
    // Each line in the log is written only after both writes returned success.
    const std::string storm =
        "for i in $(seq 1 400); do mkdir g$i 2>/dev/null && echo $((i % 300)) > g$i/syscalls.deny "
        "2>/dev/null && echo $i >> " +
        dir_ + "/log; done";
    Child writer({"/bin/bash", "-c", "cd " + m->dir() + " && " + storm}, "/dev/null");
    // Until some writes were acknowledged (a bounded wait), then the kill.
    for (const auto until = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < until && writer.poll() < 0; std::this_thread::sleep_for(2ms)) {
      std::ifstream acked(dir_ + "/log");
      int lines = 0;
      for (std::string l; std::getline(acked, l);) ++lines;
      if (lines >= 20) break;
    }
    m->daemon().kill(SIGKILL);
    ASSERT_GE(writer.wait_for(20s), 0);
  }
  auto m = mount();
  std::ifstream log(dir_ + "/log");
  int acknowledged = 0;
  for (int i; log >> i;) {
    ++acknowledged;
    // Each group denied exactly one number (219 is refused, so never logged).
    EXPECT_EQ(read_file(m->path("g" + std::to_string(i) + "/syscalls.deny")), std::to_string(i % 300) + "\n")
        << "g" << i;
  }
  EXPECT_GT(acknowledged, 0) << "no write was acknowledged before the kill";
}

}  // namespace
}  // namespace syscg::test
