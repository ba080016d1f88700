// Integration tests of the enforcer, the listener handed over at a member's
// first restriction (ListenerHandoverTest, formerly LiveLooseningReviewTest):
// ways for a member to keep or steal its listener, records that went wrong.

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

TEST_F(ListenerHandoverTest, AGroupDenyingCloseCanBeJoinedAndLoosened) {
  // The injected close() of the listener goes through the new filter, which
  // routes close to that very listener: the injector answers it itself.
  mkgroup("g", "close,getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(listeners_held(v.pid()), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
}

TEST_F(ListenerHandoverTest, AMemberIsDumpableAgainAfterItsFirstRestriction) {
  // Non-dumpable only while the listener is in its fd table; restoring that
  // goes through the new filter, which here routes prctl too.
  mkgroup("g", "getppid,prctl");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  EXPECT_EQ(v.ask("dumpable"), "dumpable ok");
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(listeners_held(v.pid()), 0);
  EXPECT_EQ(v.ask("dumpable"), "dumpable EPERM") << "prctl is denied in g";
  ASSERT_EQ(allow("g", "prctl"), 0);
  EXPECT_EQ(v.ask("dumpable"), "dumpable ok");
}

TEST_F(ListenerHandoverTest, AMemberThatRefusesToCloseTheListenerIsKilled) {
  mkgroup("g");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");  // allows everything: only the clone guard
  // Its own filter refuses exit, which ends the private thread holding the
  // listener (install.h).
  ASSERT_EQ(v.ask("exittrap"), "exittrap ok");
  // It would hold a listener it could answer itself: fail closed. The deny
  // succeeds (no member runs what it denies), and the kill is reported.
  EXPECT_EQ(errno_name(deny("g", "getppid")), "0");
  EXPECT_GE(v.child().wait_for(5s), 0) << "the member still runs";
  EXPECT_EQ(members("g"), std::vector<pid_t>{});
  EXPECT_NE(read_file(path("g/syscalls.warnings")).find("killed " + std::to_string(v.pid())), std::string::npos)
      << read_file(path("g/syscalls.warnings"));
}

TEST_F(ListenerHandoverTest, AProcessSharingTheFdTableNeverSeesTheListener) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  const std::string r = v.ask("clonefiles");  // a process copying fd N, all the time
  ASSERT_TRUE(r.starts_with("clonefiles ")) << r;
  const pid_t sibling = std::atoi(r.substr(r.rfind(' ') + 1).c_str());
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(listeners_held(sibling), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  // The listener was made in a private thread's table, never in the shared
  // one: the member got it, and the allow gives the call back.
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(stricter("g"), "");
  EXPECT_EQ(listeners_held(sibling), 0);
  kill(sibling, SIGKILL);
}

TEST_F(ListenerHandoverTest, AMemberRefusingCloneGetsAnErrnoFilterAndSaysWhy) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(v.ask("clonetrap"), "clonetrap ok");  // no private thread can be made
  ASSERT_MOVED(v.pid(), "g");
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM") << "no listener: an ERRNO filter";
  EXPECT_EQ(stricter("g"), std::to_string(v.pid()) + " 110 no-thread\n");
}

TEST_F(ListenerHandoverTest, TighteningAParentLeavesAChildsOwnRecordAlone) {
  mkgroup("a");
  mkgroup("b", "getppid");
  Victim parent({"serve"});
  ASSERT_EQ(parent.read_line(), "ready");
  ASSERT_MOVED(parent.pid(), "a");
  // A child victim on FIFOs, forked by the member (so a member of a).
  SpawnedVictim c(parent);
  ASSERT_TRUE(c.ok() && c.ready());
  const pid_t child = c.pid();
  ASSERT_MOVED(child, "b");  // the child's own first restriction: getppid routed
  EXPECT_EQ(c.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(deny("a", "uname"), 0);  // the parent's first restriction
  ASSERT_EQ(allow("b", "getppid"), 0);
  EXPECT_EQ(c.ask("getppid"), "getppid ok");
  ASSERT_EQ(deny("b", "getppid,uname"), 0);
  ASSERT_EQ(allow("b", "getppid"), 0);
  EXPECT_EQ(c.ask("getppid"), "getppid ok") << "getppid is routed for the child: the allow reaches it";
  EXPECT_EQ(stricter("b"), "");
}

}  // namespace
}  // namespace syscg::test
