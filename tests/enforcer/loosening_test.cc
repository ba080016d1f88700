// Integration tests of the enforcer, live loosening (issue 5 §1–§4): an
// allow gives running members a denied call back, through the supervisor.

#include "tests/support/loosening_fixture.h"

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

TEST_F(LiveLooseningTest, AllowAfterDenyGivesRunningMembersTheCallBack) {
  mkgroup("g");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  ASSERT_EQ(deny("g", "getppid,execve"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(v.ask("execve"), "execve EPERM");
  EXPECT_EQ(v.ask("uname"), "uname ok");
  const int filters_after_deny = filters(v.pid());

  ASSERT_EQ(allow("g", "getppid,execve"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(v.ask("execve"), "execve ENOENT") << "execve ran: the path does not exist";
  EXPECT_EQ(stricter("g"), "");

  // And back: the supervisor answers from the policy of the moment, so no
  // filter is added and the call can be given back again.
  ASSERT_EQ(deny("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(filters(v.pid()), filters_after_deny);
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
}

TEST_F(LiveLooseningTest, ALaterTighteningIsPermanentAndReported) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");        // its first restriction: getppid is routed
  ASSERT_EQ(deny("g", "uname"), 0);  // a second filter: ERRNO, for good
  EXPECT_EQ(v.ask("uname"), "uname EPERM");
  EXPECT_EQ(stricter("g"), "") << "nothing the group allows is out of reach yet";

  ASSERT_EQ(allow("g", "getppid,uname"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(v.ask("uname"), "uname EPERM");
  EXPECT_EQ(stricter("g"), std::to_string(v.pid()) + " 63 tightened\n");
  // A new member of the same group is not affected.
  const auto r = sh(syscg_binary() + " exec -m . g -- " + victim_binary() + " probe getppid uname");
  EXPECT_EQ(r.output, "getppid ok\nuname ok\n");
}

TEST_F(LiveLooseningTest, LaunchedMembersAndTheirChildrenAreLoosenedToo) {
  mkgroup("g", "getppid");
  // A member shell that runs a probe per line read: each probe is a child
  // forked after the shell's first restriction (the launch).
  Child shell({syscg_binary(), "exec", "-m", mount_->dir(), "g", "--", "/bin/sh", "-c",
               "echo ready; while read x; do " + victim_binary() + " probe getppid; done"},
              Piped{});
  auto line = [&] {
    std::string s;
    char c;
    pollfd p{shell.out_fd(), POLLIN, 0};
    while (::poll(&p, 1, 5000) > 0 && read(shell.out_fd(), &c, 1) == 1 && c != '\n') s += c;
    return s;
  };
  ASSERT_EQ(line(), "ready");
  ASSERT_EQ(write(shell.in_fd(), "1\n", 2), 2);
  EXPECT_EQ(line(), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  ASSERT_EQ(write(shell.in_fd(), "2\n", 2), 2);
  EXPECT_EQ(line(), "getppid ok");
  shell.close_in();
  EXPECT_EQ(shell.wait_for(5s), 0);
}

TEST_F(LiveLooseningTest, EveryThreadIsLoosened) {
  mkgroup("g", "getppid");
  Victim v({"threads", "3"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("report"), "EPERM EPERM EPERM ");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("report"), "ok ok ok ");
}

TEST_F(LiveLooseningTest, AProcessWithItsOwnListenerFallsBackAndIsReported) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(v.ask("listener"), "listener ok");  // one listener per chain: ours cannot go in
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(stricter("g"), std::to_string(v.pid()) + " 110 own-listener\n");
}

TEST_F(LiveLooseningTest, ThreadsWithDivergingFiltersFallBackAndAreReported) {
  mkgroup("g", "getppid");
  Victim v({"threads", "2", "diverge"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("report"), "EPERM EPERM ");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("report"), "EPERM EPERM ");
  EXPECT_EQ(stricter("g"), std::to_string(v.pid()) + " 110 threads-diverged\n");
}

TEST_F(LiveLooseningTest, WithTheSupervisorGoneAMemberCannotAnswerItsOwnCalls) {
  // Once our listener is gone, a listener of the member's own would win
  // the tie between equal USER_NOTIF verdicts: supervised filters refuse
  // NEW_LISTENER, even where the group allows seccomp.
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("listener"), "listener EPERM") << "refused by our filter (else EBUSY: ours is there)";
  mount_->daemon().kill(SIGKILL);
  ASSERT_GE(mount_->daemon().wait_for(5s), 0);
  EXPECT_EQ(v.ask("listener"), "listener EPERM");
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
}

TEST_F(LiveLooseningTest, DenialsAreCountedPerGroupAndNumber) {
  mkgroup("g", "getppid,uname");
  mkgroup("h", "getppid");
  Victim a({"serve"}), b({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  ASSERT_MOVED(b.pid(), "h");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(a.ask("uname"), "uname EPERM");
  EXPECT_EQ(b.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(denied("g"), "63 uname 1\n110 getppid 3\n");
  EXPECT_EQ(denied("h"), "110 getppid 1\n");
  EXPECT_EQ(denied(""), "");
  EXPECT_NE(write_file(path("g/syscalls.denied"), "0\n"), 0) << "read-only";
}

TEST_F(LiveLooseningTest, DenialsCanBeLogged) {
  auto logged = std::make_unique<Mount>(std::vector<std::string>{"-o", "log_denials"});
  ASSERT_EQ(logged->sh("mkdir g && echo getppid > g/syscalls.deny").status, 0);
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(write_file(logged->path("g/cgroup.procs"), std::to_string(v.pid())), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  const std::string log = logged->log();
  const std::string first = "denied: process " + std::to_string(v.pid()) + " in /g called 110 (getppid); 1 ";
  EXPECT_NE(log.find(first), std::string::npos) << log;
  EXPECT_NE(log.find("; 4 denial"), std::string::npos) << log;
  EXPECT_EQ(log.find("; 3 denial"), std::string::npos) << "logged at powers of two only:\n" << log;
  EXPECT_EQ(logged->log_errors(), "");
}

TEST_F(LiveLooseningTest, WithTheSupervisorGoneRoutedCallsStayDenied) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  mount_->daemon().kill(SIGKILL);  // the supervisor dies with the daemon
  ASSERT_GE(mount_->daemon().wait_for(5s), 0);
  // The kernel fails a notification nobody can answer: fail closed.
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  EXPECT_EQ(v.ask("uname"), "uname ok");
}

}  // namespace
}  // namespace syscg::test
