// Attacks on the listener a member's first restriction hands to the daemon
// (enforcer/inject/install.cc with_listener): while it exists in the table of
// the private thread W, a thief that may pidfd_getfd W takes a copy and
// answers the member's denied calls with CONTINUE. The member is made
// non-dumpable meanwhile: only CAP_SYS_PTRACE over its memory should get
// past that, or a process sharing the memory (it can turn the flag back on):
// such a member gets no listener (enforcer/memory_sharing.h). The thieves (tests/victims/attack_listener.c) watch
// /proc/MEMBER/task and try every fd number of each new thread. Races: a
// bounded number of first restrictions, the invariant checked after each.

#include "tests/support/soundness_fixture.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <unistd.h>

namespace syscg::test {
namespace {

constexpr int kAttempts = 30;
const std::string kUid = "4242";  // an unprivileged identity for the member and its thieves

class ListenerTheftTest : public SoundnessTest {
 protected:
  static pid_t last_number(const std::string& line) { return std::atoi(line.substr(line.rfind(' ') + 1).c_str()); }

  // One first restriction of `member` (into g, which denies getppid) with
  // `thief` at work: the thief must hold no listener and the member's
  // getppid must stay denied. `ask` runs a command in the member.
  template <class Ask>
  void check_one(int attempt, pid_t member, pid_t thief, Ask ask, const std::string& stat_cmd = "") {
    const int moved = move(member, "g");
    const int held = listeners_held(thief);
    // The thief answers CONTINUE, the daemon EPERM: whoever receives first.
    int ran = 0;
    for (int i = 0; i < 20; ++i)
      if (ask("getppid") != "getppid EPERM") ++ran;
    const std::string stat = stat_cmd.empty() ? "" : ask(stat_cmd);
    ASSERT_EQ(errno_name(moved), "0") << "attempt " << attempt;
    EXPECT_EQ(held, 0) << "attempt " << attempt << ": the thief " << thief << " holds the member's listener; " << stat;
    EXPECT_EQ(ran, 0) << "attempt " << attempt << ": denied calls ran (of 20); " << stat;
    if (held != 0 || ran != 0) GTEST_FAIL() << "stopping after attempt " << attempt;
  }
};

TEST_F(ListenerTheftTest, ASameUidThiefWithItsOwnMemoryCannotTakeTheListener) {
  // The defence the design names: non-dumpable during the window.
  mkgroup("g", "getppid");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Attacker a({"asuser", kUid, "serve"});
    ASSERT_EQ(a.read_line(), "ready");
    const std::string r = a.ask("steal " + std::to_string(a.pid()));
    ASSERT_TRUE(r.starts_with("steal ") && last_number(r) > 0) << r;
    check_one(attempt, a.pid(), last_number(r), [&](const std::string& c) { return a.ask(c); });
    if (HasFailure()) return;
  }
}

TEST_F(ListenerTheftTest, AMemberSharingItsMemoryGetsNoListenerAtAll) {
  // The same thief as below, leaving the flag alone. The daemon sees that
  // another process shares the member's memory (kcmp, KCMP_VM) and makes no
  // listener: no private thread ever appears, the member gets an ERRNO
  // filter, and syscalls.stricter says why.
  mkgroup("g", "getppid");
  Attacker a({"asuser", kUid, "serve"});
  ASSERT_EQ(a.read_line(), "ready");
  const std::string r = a.ask("mmsteal");
  ASSERT_TRUE(r.starts_with("mmsteal ") && last_number(r) > 0) << r;
  check_one(
      0, a.pid(), last_number(r), [&](const std::string& c) { return a.ask(c); }, "thiefstat");
  const std::string stat = a.ask("thiefstat");
  EXPECT_EQ(field(stat, "seen"), "0") << stat;
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(a.ask("getppid"), "getppid EPERM") << "no listener: an ERRNO filter";
  EXPECT_EQ(stricter("g"), std::to_string(a.pid()) + " 110 shared-memory\n");
}

TEST_F(ListenerTheftTest, AThiefSharingTheMembersMemoryCannotMakeItDumpable) {
  // A process made with clone(CLONE_VM) and no CLONE_THREAD shares the
  // member's memory, hence its dumpable flag (it lives in the mm), without
  // being one of its threads: the daemon never stops it. It keeps setting
  // the flag back to 1 while it tries pidfd_getfd on the private thread.
  mkgroup("g", "getppid");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Attacker a({"asuser", kUid, "serve"});
    ASSERT_EQ(a.read_line(), "ready");
    const std::string r = a.ask("mmsteal dumpable");
    ASSERT_TRUE(r.starts_with("mmsteal ") && last_number(r) > 0) << r;
    check_one(
        attempt, a.pid(), last_number(r), [&](const std::string& c) { return a.ask(c); }, "thiefstat");
    if (HasFailure()) return;
  }
}

TEST_F(ListenerTheftTest, TheOwnerOfAMembersUserNamespaceCannotTakeTheListener) {
  // The member execs in a user namespace of its own: its memory belongs to
  // that namespace, whose owner (an unprivileged uid, no capability of its
  // own in /proc/PID/status) holds CAP_SYS_PTRACE over it, non-dumpable or
  // not. The member drops its capabilities: it is no CAP_SYS_PTRACE member.
  if (access("/proc/self/ns/user", R_OK) != 0) GTEST_SKIP() << "no user namespaces";
  mkgroup("g", "getppid");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Attacker a({"asuser", kUid, "serve"});
    ASSERT_EQ(a.read_line(), "ready");
    // The member's "ready" and our "nsmember PID" come in either order.
    std::string r = a.ask("nsmember"), other = a.read_line();
    if (r == "ready") std::swap(r, other);
    if (r.starts_with("nsmember setup")) GTEST_SKIP() << "cannot make a user namespace here: " << r;
    ASSERT_TRUE(r.starts_with("nsmember ") && last_number(r) > 0) << r;
    ASSERT_EQ(other, "ready");  // the member shares the attacker's pipes
    const pid_t member = last_number(r);
    ASSERT_EQ(a.ask("dropcaps"), "dropcaps ok");
    check_one(attempt, member, a.pid(), [&](const std::string& c) { return a.ask(c); });
    // No listener was made: an ERRNO filter; an allow cannot reach it, and
    // the record says why.
    ASSERT_EQ(allow("g", "getppid"), 0);
    EXPECT_EQ(a.ask("getppid"), "getppid EPERM") << "attempt " << attempt;
    EXPECT_NE(stricter("g").find(std::to_string(member) + " 110 user-namespace\n"), std::string::npos)
        << "attempt " << attempt << ": " << stricter("g");
    ASSERT_EQ(deny("g", "getppid"), 0);
    kill(member, SIGKILL);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace syscg::test
