// Integration tests: a real syscgfs mount driven by real shell tools (see
// tests/support/syscgfs_fixture.h); every process a test starts is killed
// and reaped before the test ends.
//
// poll on cgroup.events; permissions and delegation.
#include "tests/support/syscgfs_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// ---------------------------------------------------------------------------
// poll on cgroup.events

TEST_F(SyscgfsTest, PollOnEventsWakesWhenPopulatedChanges) {
  ok("mkdir g h");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "g/cgroup.events", 5000, 2);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  Sleeper s;
  ok("echo " + s.id() + " > g/cgroup.procs");
  ASSERT_TRUE(wait_for_line(log, "ready 2")) << slurp(log.path());
  ok("echo " + s.id() + " > h/cgroup.procs");  // g becomes empty again
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()),
            "before populated 0\nready 1\nwoke\nafter populated 1\nready 2\nwoke\nafter populated 0\n");
  s.end();
}

TEST_F(SyscgfsTest, PollOnAncestorEventsWakesForADescendant) {
  ok("mkdir p p/c");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "p/cgroup.events", 5000, 1);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  Sleeper s;
  ok("echo " + s.id() + " > p/c/cgroup.procs");
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()), "before populated 0\nready 1\nwoke\nafter populated 1\n");
  s.end();
}

TEST_F(SyscgfsTest, PollOnEventsTimesOutWithoutAChange) {
  ok("mkdir g other");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "g/cgroup.events", 1000, 1);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  // Unrelated activity does not wake it.
  Sleeper s;
  ok("echo " + s.id() + " > other/cgroup.procs && echo 5 > g/syscalls.deny");
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()), "before populated 0\nready 1\ntimeout\nafter populated 0\n");
  s.end();
}

// ---------------------------------------------------------------------------
// Permissions and delegation

TEST_F(SyscgfsTest, OtherUsersCannotWriteRootOwnedGroups) {
  ok("mkdir web");
  auto r = as_nobody("echo 5 > web/syscalls.deny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/syscalls.deny"), "\n");
  r = as_nobody("mkdir web/sub");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  Sleeper mine(true);
  r = as_nobody("echo " + mine.id() + " > web/cgroup.procs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/cgroup.procs"), "");
  // Reading is fine.
  r = as_nobody("cat web/syscalls.deny web/cgroup.stat");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "\nnr_descendants 0\nnr_members 0\n");
  ok("test ! -e web/sub");
  mine.end();
}

TEST_F(SyscgfsTest, DelegatedGroupLetsItsOwnerManageItsSubtree) {
  ok("mkdir web && chown nobody:nogroup web web/cgroup.procs web/syscalls.deny web/syscalls.allow");
  EXPECT_EQ(ok("stat -c '%U %G' web web/cgroup.procs"), "nobody nogroup\nnobody nogroup\n");
  Sleeper mine(true);  // nobody's own process
  Sleeper roots;       // root's
  ok("echo " + mine.id() + " > web/cgroup.procs && echo " + roots.id() + " > web/cgroup.procs");

  auto r = as_nobody("mkdir web/sub && echo 7 > web/sub/syscalls.deny && cat web/sub/syscalls.deny");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "7\n");
  EXPECT_EQ(ok("stat -c '%U %G' web/sub web/sub/cgroup.procs web/sub/syscalls.deny"),
            "nobody nogroup\nnobody nogroup\nnobody nogroup\n");
  // Its own process: accepted.
  r = as_nobody("echo " + mine.id() + " > web/sub/cgroup.procs && cat web/sub/cgroup.procs");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, mine.id() + "\n");
  // Root's process: refused, it stays where it was.
  r = as_nobody("echo " + roots.id() + " > web/sub/cgroup.procs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/cgroup.procs"), roots.id() + "\n");
  EXPECT_EQ(cat("web/sub/cgroup.procs"), mine.id() + "\n");
  // Outside the delegation nothing changed for nobody.
  r = as_nobody("mkdir other");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  mine.end();
  roots.end();
  ok("rmdir web/sub && rmdir web");
}

}  // namespace
}  // namespace syscg::test
