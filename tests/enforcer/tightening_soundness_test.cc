// Integration tests of the enforcer, soundness of a tightening: behaviours
// found in review, each a way out of a tightening or a way to hurt a member
// or the daemon (TighteningSoundnessTest, formerly EnforcerReviewTest).

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

// Behaviours found in review: each was a way out of a tightening, or a way
// to hurt a member or the daemon.
class TighteningSoundnessTest : public EnforcerTest {};

TEST_F(TighteningSoundnessTest, AMemberCanTightenItsOwnGroup) {
  mkgroup("g");
  const auto r = sh("bash -c 'echo $$ > g/cgroup.procs; echo getppid > g/syscalls.deny; echo rc=$?; " +
                    victim_binary() + " probe getppid' 2>&1");
  EXPECT_NE(r.output.find("rc=0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("getppid EPERM"), std::string::npos) << r.output;
}

TEST_F(TighteningSoundnessTest, AnUnstoppableMemberDoesNotShieldTheOthers) {
  mkgroup("g");
  Victim a({"serve"}), b({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_EQ(move(a.pid(), "g"), 0);
  ASSERT_EQ(move(b.pid(), "g"), 0);
  ASSERT_TRUE(a.send("vfork 3000"));  // a now waits, unstoppable, for its vfork child
  ASSERT_TRUE(wait_for_state(a.pid(), 'D')) << "a never blocked in vfork";
  EXPECT_EQ(write_file(path("g/syscalls.deny"), "getppid\n"), 0);
  EXPECT_EQ(b.ask("getppid"), "getppid EPERM");
  // a gets its filter when it stops, before running any code of its own.
  EXPECT_EQ(a.read_line(6s), "vforked");
  EXPECT_EQ(a.ask("getppid"), "getppid EPERM");
}

TEST_F(TighteningSoundnessTest, ChildrenFromBeforeAMoveStayOutside) {
  mkgroup("g");
  // (`sleep 30` is the object here, a process to look at, not a wait.)
  // The sleep exists before its shell joins: it is not a member, and a deny
  // on the shell's group must not reach it.
  const auto r = sh(R"(bash -c 'sleep 30 & S=$!
    echo $$ > g/cgroup.procs
    echo uname > g/syscalls.deny
    grep -qx "$S" g/cgroup.procs && echo LISTED
    grep Seccomp_filters /proc/$S/status
    kill $S' 2>&1)");
  EXPECT_EQ(r.output.find("LISTED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Seccomp_filters:\t0"), std::string::npos) << r.output;
}

TEST_F(TighteningSoundnessTest, EveryMemberGetsNoNewPrivsEvenInAGroupThatAllowsAll) {
  mkgroup("open");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(move(v.pid(), "open"), 0);
  EXPECT_EQ(status_field(v.pid(), "NoNewPrivs").value_or("?"), "1");
  EXPECT_EQ(filters(v.pid()), 1);  // the clone guard
}

TEST_F(TighteningSoundnessTest, InjectionLeavesTheTargetsSignalHandlersInPlace) {
  mkgroup("g", "uname");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  const auto before = status_field(v.pid(), "SigCgt").value_or("?");
  ASSERT_EQ(move(v.pid(), "g"), 0);
  EXPECT_EQ(status_field(v.pid(), "SigCgt").value_or("?"), before);
}

TEST_F(TighteningSoundnessTest, AllowsAndRepeatedDeniesStackNoFilters) {
  mkgroup("g", "uname");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(move(v.pid(), "g"), 0);
  const int after_move = filters(v.pid());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(write_file(path("g/syscalls.allow"), "uname\n"), 0);
    ASSERT_EQ(write_file(path("g/syscalls.deny"), "uname\n"), 0);
  }
  EXPECT_EQ(filters(v.pid()), after_move);  // nothing stricter than what it has
  ASSERT_EQ(write_file(path("g/syscalls.deny"), "getppid\n"), 0);
  EXPECT_EQ(filters(v.pid()), after_move + 1);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
}

TEST_F(TighteningSoundnessTest, RacingOpenAndRmdirDoesNotCrashTheDaemon) {
  const auto r =
      sh("bash -c 'for i in $(seq 120); do mkdir r 2>/dev/null; rmdir r 2>/dev/null; done & "
         "for i in $(seq 240); do cat r/cgroup.stat r/syscalls.allow >/dev/null 2>&1; done; wait'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(mount_->daemon().poll(), -1) << "the daemon died";
  EXPECT_EQ(sh("cat cgroup.stat").status, 0);
}

TEST_F(TighteningSoundnessTest, EventsWakeWhenTheLastMemberExits) {
  mkgroup("g");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(move(v.pid(), "g"), 0);
  // The change comes from the kernel's exit event, not from a request. The
  // poller says "armed" once it read the events (the daemon reports any
  // change after that read, before or during the poll): the member is killed
  // only then.
  const std::string script = mount_->dir() + ".poll.py";
  std::ofstream(script) << "import os, select\n"
                           "fd = os.open('g/cgroup.events', os.O_RDONLY)\n"
                           "os.pread(fd, 100, 0)\n"
                           "p = select.poll(); p.register(fd, select.POLLPRI)\n"
                           "print('armed', flush=True)\n"
                           "print('woke' if p.poll(8000) else 'timeout', flush=True)\n"
                           "print(os.pread(fd, 100, 0).decode().strip(), flush=True)\n";
  PipedProgram poller({"/bin/sh", "-c", "cd '" + mount_->dir() + "' && exec /usr/bin/python3 " + script});
  const std::string armed = poller.read_line(30s);  // python's start-up may be slow on a loaded machine
  std::remove(script.c_str());
  ASSERT_EQ(armed, "armed");
  v.child().kill(SIGTERM);
  std::string output;
  for (std::string line; (line = poller.read_line(15s)) != "<eof>" && !line.starts_with("<no line");)
    output += line + "\n";
  EXPECT_EQ(poller.child().wait_for(5s), 0) << output;
  EXPECT_NE(output.find("woke"), std::string::npos) << output;
  EXPECT_NE(output.find("populated 0"), std::string::npos) << output;
}

}  // namespace
}  // namespace syscg::test
