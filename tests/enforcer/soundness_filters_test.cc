// Attacks on the enforcer's soundness (issue 9). The members are
// tests/victims/attack (C, raw system calls); filters go into them only,
// never into the test runner. Races are run a bounded number of times and
// the invariant is checked on every attempt.
//
// The member's own filters: a used-up filter budget, a filter refusing
// seccomp or faking exit, and the arguments' upper bits.
#include "tests/support/soundness_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// ================================================================ 5. filter budget

// The kernel refuses filters past MAX_INSNS_PER_PATH instructions per chain;
// a member that used up its budget cannot be tightened, so it is killed.
TEST_F(SoundnessTest, AMemberThatFilledItsFilterBudgetIsKilledByATightening) {
  mkgroup("g", "seccomp");  // its own SECCOMP_SET_MODE_FILTER still passes
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  ASSERT_TRUE(a.send("fill"));
  const auto filled = a.read_line(30s);
  ASSERT_TRUE(filled.starts_with("fill ") && filled.ends_with(" ENOMEM")) << filled;
  ASSERT_EQ(a.ask("uname"), "uname ok");
  EXPECT_EQ(errno_name(deny("g", "uname")), "0");
  EXPECT_EQ(a.child().wait_for(5s), 128 + SIGKILL) << "still runs; uname: " << a.ask("uname");
  EXPECT_TRUE(warning_names("g", "killed", a.pid())) << "syscalls.warnings:\n" << warnings("g");
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
  release_from_daemon(a.child());
}

TEST_F(SoundnessTest, AMemberWhoseOwnFilterRefusesSeccompIsKilledByATightening) {
  mkgroup("g", "getppid");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  ASSERT_EQ(a.ask("blockseccomp"), "blockseccomp ok prctl=EACCES");
  ASSERT_EQ(a.ask("uname"), "uname ok");
  EXPECT_EQ(errno_name(deny("g", "uname")), "0");
  EXPECT_EQ(a.child().wait_for(5s), 128 + SIGKILL) << "still runs; uname: " << a.ask("uname");
  EXPECT_TRUE(warning_names("g", "killed", a.pid())) << "syscalls.warnings:\n" << warnings("g");
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
  release_from_daemon(a.child());
}

// A member whose /proc/PID/status outgrows a page (thousands of
// supplementary groups: the Seccomp and CapEff lines come after Groups)
// must still be moved and tightened: a status the daemon cannot parse must
// never count as "the process is gone" (that skipped the tightening and the
// deny returned success with the member unfiltered).
TEST_F(SoundnessTest, AMemberWithAStatusLargerThanAPageIsStillTightened) {
  mkgroup("g");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  const auto grown = a.ask("groups 3000");
  ASSERT_TRUE(grown.starts_with("groups ok ")) << grown;
  ASSERT_GT(std::stol(grown.substr(10)), 8192) << grown;
  ASSERT_MOVED(a.pid(), "g");  // the attach reads its status too
  // Another grows its status once it is a member, before the tightening.
  Attacker b({"serve"});
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_MOVED(b.pid(), "g");
  const auto grown_later = b.ask("groups 3000");
  ASSERT_TRUE(grown_later.starts_with("groups ok ")) << grown_later;
  ASSERT_EQ(a.ask("uname"), "uname ok");
  ASSERT_EQ(b.ask("uname"), "uname ok");
  EXPECT_EQ(errno_name(deny("g", "uname")), "0");
  EXPECT_EQ(a.ask("uname"), "uname EPERM");
  EXPECT_EQ(b.ask("uname"), "uname EPERM");
  EXPECT_EQ(a.ask("getppid"), "getppid ok");
  EXPECT_EQ(members("g"), (std::vector<pid_t>{std::min(a.pid(), b.pid()), std::max(a.pid(), b.pid())}));
}

// ================================================================ 6. argument widths

// seccomp(2) takes `unsigned int` op and flags: the kernel ignores the upper
// 32 bits, so the refusal of NEW_LISTENER must too.
const std::vector<std::string> kWideListenerCalls{
    "seccomp_wide 1 0x8",                   // SECCOMP_SET_MODE_FILTER, NEW_LISTENER
    "seccomp_wide 0x100000001 0x8",         // op with bit 32 set
    "seccomp_wide 1 0x100000008",           // flags with bit 32 set
    "seccomp_wide 0xffffffff00000001 0x8",  // op with the upper half set
};

// Its own filter fakes the injected close() of the listener (ERRNO(0)):
// it would keep a copy and answer its own routed calls. It must not run on.
TEST_F(SoundnessTest, AMemberFakingThePrivateThreadsExitIsKilled) {
  mkgroup("g", "uname");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(a.ask("fakeexit"), "fakeexit ok");
  EXPECT_NE(errno_name(move(a.pid(), "g")), "0");
  EXPECT_EQ(a.child().wait_for(5s), 128 + SIGKILL) << "still runs; uname: " << a.ask("uname");
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
  release_from_daemon(a.child());
}

TEST_F(SoundnessTest, NewListenerIsRefusedWhateverTheUpperArgumentBits) {
  mkgroup("g", "uname");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");  // its first restriction: supervised
  for (const auto& call : kWideListenerCalls) EXPECT_EQ(a.ask(call), "seccomp_wide EPERM") << call;
}

TEST_F(SoundnessTest, NewListenerIsRefusedWhateverTheUpperArgumentBitsOnceTheSupervisorIsGone) {
  mkgroup("g", "uname");
  Attacker a({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "g");
  mount_->daemon().kill(SIGKILL);
  ASSERT_GE(mount_->daemon().wait_for(5s), 0);
  // A listener of its own would now answer its routed calls (fail open).
  for (const auto& call : kWideListenerCalls) EXPECT_EQ(a.ask(call), "seccomp_wide EPERM") << call;
  EXPECT_EQ(a.ask("uname"), "uname ENOSYS");
}

}  // namespace
}  // namespace syscg::test
