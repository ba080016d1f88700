// Integration tests of errno per number (issue 12): `NR:ERRNO` tokens in
// syscalls.deny, what members see for them at launch, on a live deny (an
// ERRNO filter), and for routed numbers (the supervisor's answer follows
// the policy of the moment). Real processes, the real kernel's seccomp, a
// real syscgfs mount.
#include "tests/support/loosening_fixture.h"

#include <gtest/gtest.h>

#include <string>

namespace syscg::test {
namespace {

// The acceptance: glibc falls back from clone3 to clone only on
// ENOSYS, so a group that answers clone3 with ENOSYS keeps fork and
// pthread_create working.
TEST_F(EnforcerTest, Clone3EnosysKeepsForkAndThreadsWorking) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "clone3:ENOSYS"), 0);
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "435:ENOSYS\n");
  auto r = sh(syscg_binary() + " exec -m . g -- " + victim_binary() + " probe clone3 fork pthread");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "clone3 ENOSYS\nfork ok\npthread ok\n");
}

TEST_F(EnforcerTest, ALaunchedMemberGetsEachNumbersErrno) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "getppid:EACCES uname"), 0);
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "63 110:EACCES\n");
  auto r = sh(syscg_binary() + " exec -m . g -- " + victim_binary() + " probe getppid uname");
  EXPECT_EQ(r.output, "getppid EACCES\nuname EPERM\n");
  // A descendant made later starts with its parent's errnos.
  mkgroup("g/c");
  EXPECT_EQ(read_file(path("g/c/syscalls.deny")), "63 110:EACCES\n");
}

TEST_F(EnforcerTest, DenyErrnosReachDescendantsAndAllowClearsThem) {
  mkgroup("g");
  mkgroup("g/c");
  ASSERT_EQ(deny("g", "getppid:ENOSYS"), 0);
  EXPECT_EQ(read_file(path("g/c/syscalls.deny")), "110:ENOSYS\n");
  ASSERT_EQ(deny("g/c", "getppid:EROFS"), 0);  // a later deny changes it, there only
  EXPECT_EQ(read_file(path("g/c/syscalls.deny")), "110:EROFS\n");
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "110:ENOSYS\n");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "\n");
  ASSERT_EQ(deny("g", "getppid"), 0);  // EPERM again
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "110\n");
  EXPECT_EQ(read_file(path("g/c/syscalls.deny")), "110\n");
}

TEST_F(EnforcerTest, BadErrnoTokensChangeNothing) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "uname:EACCES"), 0);
  for (const char* bad : {"getppid:EWHAT", "getppid:", ":EPERM", "getppid:0", "getppid:4096", "getppid:ENOSYS,getppid",
                          "restart_syscall:ENOSYS", "@no-such-set"})
    EXPECT_EQ(deny("g", bad), EINVAL) << bad;
  EXPECT_EQ(allow("g", "uname:EPERM"), EINVAL);
  EXPECT_EQ(read_file(path("g/syscalls.deny")), "63:EACCES\n");
}

// A deny's text reads back as the same policy: written to another group,
// it gives the same file.
TEST_F(EnforcerTest, SyscallsDenyReadsBackAsTheSamePolicy) {
  mkgroup("a");
  mkgroup("b");
  ASSERT_EQ(deny("a", "0-3:EIO 59 435:ENOSYS 300:4000"), 0);
  const std::string text = read_file(path("a/syscalls.deny"));
  EXPECT_EQ(text, "0:EIO 1:EIO 2:EIO 3:EIO 59 300:4000 435:ENOSYS\n");
  ASSERT_EQ(deny("b", text), 0);
  EXPECT_EQ(read_file(path("b/syscalls.deny")), text);
}

// A running member: a live deny stacks an ERRNO filter with the number's
// errno; a routed number's errno follows the policy at once (no filter).
TEST_F(LiveLooseningTest, RunningMembersGetTheErrnoOfTheMoment) {
  mkgroup("g");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  ASSERT_EQ(deny("g", "getppid:ENOSYS"), 0);  // the first restriction: routed
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  const int filters_before = filters(v.pid());
  ASSERT_EQ(deny("g", "getppid:EROFS"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EROFS");
  EXPECT_EQ(filters(v.pid()), filters_before) << "a routed number needs no new filter";
  ASSERT_EQ(deny("g", "uname:EACCES"), 0);  // a later deny: an ERRNO filter
  EXPECT_EQ(v.ask("uname"), "uname EACCES");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
}

// A later deny changes the errno of a number an ERRNO filter already
// denies: another filter goes in, and its errno wins.
TEST_F(LiveLooseningTest, ALaterErrnoReachesATightenedNumber) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  ASSERT_EQ(deny("g", "uname:EACCES"), 0);  // an ERRNO filter
  EXPECT_EQ(v.ask("uname"), "uname EACCES");
  ASSERT_EQ(deny("g", "uname:ENOSYS"), 0);
  EXPECT_EQ(v.ask("uname"), "uname ENOSYS");
  ASSERT_EQ(deny("g", "uname"), 0);
  EXPECT_EQ(v.ask("uname"), "uname EPERM");
  EXPECT_EQ(stricter("g"), "") << "uname is denied, so nothing is lost";
}

}  // namespace
}  // namespace syscg::test
