// Integration tests: a real syscgfs mount driven by real shell tools (see
// tests/support/syscgfs_fixture.h); every process a test starts is killed
// and reaped before the test ends.
//
// Membership through cgroup.procs, and concurrent writers.
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
// cgroup.procs

TEST_F(SyscgfsTest, WritingAPidMakesItAMember) {
  ok("mkdir a b");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > a/cgroup.procs");
  EXPECT_EQ(cat("a/cgroup.procs"), s1.id() + "\n");
  EXPECT_EQ(cat("a/cgroup.events"), "populated 1\n");
  ok("echo " + s2.id() + " > a/cgroup.procs");
  EXPECT_EQ(parse_list(cat("a/cgroup.procs")), (std::set<int>{s1.pid(), s2.pid()}));
  // Writing again is harmless; moving takes it out of the old group.
  ok("echo " + s1.id() + " > a/cgroup.procs");
  ok("echo " + s1.id() + " > b/cgroup.procs");
  EXPECT_EQ(cat("a/cgroup.procs"), s2.id() + "\n");
  EXPECT_EQ(cat("b/cgroup.procs"), s1.id() + "\n");
  // A shell's background job, killed by the shell itself.
  const auto out =
      ok("sleep 100 >/dev/null 2>&1 & S=$!; trap 'kill $S' EXIT; echo $S > b/cgroup.procs && "
         "cat b/cgroup.procs && echo job=$S");
  const auto l = lines(out);
  ASSERT_EQ(l.size(), 3U) << out;
  EXPECT_EQ(l[2].substr(0, 4), "job=");
  EXPECT_TRUE(has_line(out, l[2].substr(4))) << out;
  EXPECT_TRUE(has_line(out, s1.id())) << out;
  s1.end();
  s2.end();
}

TEST_F(SyscgfsTest, WritingZeroMovesTheWriter) {
  ok("mkdir g");
  const auto out = ok("bash -c 'echo 0 > g/cgroup.procs; cat g/cgroup.procs; echo self=$$'");
  const auto l = lines(out);
  ASSERT_FALSE(l.empty()) << out;
  ASSERT_EQ(l.back().substr(0, 5), "self=") << out;
  const std::string self = l.back().substr(5);
  EXPECT_TRUE(has_line(out.substr(0, out.size() - l.back().size() - 1), self))
      << "cgroup.procs should list the writing bash " << self << ":\n"
      << out;
  // The writer has exited since.
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  ok("rmdir g");
}

TEST_F(SyscgfsTest, AThreadIdMovesItsWholeProcess) {
  ok("mkdir g");
  const auto out = python(R"(
import os, threading
ready, done = threading.Event(), threading.Event()
tid = []
def run():
    tid.append(threading.get_native_id())
    ready.set()
    done.wait()
t = threading.Thread(target=run)
t.start()
ready.wait()
assert tid[0] != os.getpid()
with open("g/cgroup.procs", "w") as f:
    f.write(str(tid[0]))
print(open("g/cgroup.procs").read().strip() == str(os.getpid()))
done.set()
t.join())");
  EXPECT_EQ(out, "True\n");
  EXPECT_EQ(cat("g/cgroup.procs"), "");  // exited
}

TEST_F(SyscgfsTest, ProcsWriteErrors) {
  ok("mkdir g");
  expect_fails("echo $(( $(cat /proc/sys/kernel/pid_max) + 1 )) > g/cgroup.procs", ESRCH);
  expect_fails("echo abc > g/cgroup.procs", EINVAL);
  expect_fails("echo -5 > g/cgroup.procs", EINVAL);
  expect_fails("echo > g/cgroup.procs", EINVAL);
  expect_fails("echo 2 > g/cgroup.procs", EINVAL);  // kthreadd, a kernel thread
  EXPECT_EQ(ok("cat /proc/2/comm"), "kthreadd\n");
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  EXPECT_EQ(cat("g/cgroup.events"), "populated 0\n");
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
}

TEST_F(SyscgfsTest, ExitedMembersLeaveAndNoLongerBlockRmdir) {
  ok("mkdir g h");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > g/cgroup.procs && echo " + s2.id() + " > h/cgroup.procs");
  expect_fails("rmdir g", EBUSY);
  expect_fails("rmdir h", EBUSY);
  s1.end();
  s2.end();
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  ok("rmdir g");
  ok("rmdir h");  // without a read of its cgroup.procs first
}

// ---------------------------------------------------------------------------
// Concurrent writers

TEST_F(SyscgfsTest, ConcurrentWritersKeepEveryGroupWithinItsParent) {
  const std::vector<std::string> groups{"a", "a/b", "a/b/c", "a/d", "a/d/e", "f", "f/g", "f/g/h", "f/i"};
  std::string all;
  for (const auto& g : groups) all += " " + g;
  ok("mkdir" + all);
  // 8 writers, 300 random commands each; refusals (EPERM) are expected.
  const auto r = bash(
      "for w in 1 2 3 4 5 6 7 8; do bash -c '"
      "groups=(" +
      all +
      ");"
      "for i in $(seq 300); do"
      "  g=${groups[RANDOM % ${#groups[@]}]};"
      "  n=$((RANDOM % 48));"
      "  if ((RANDOM % 4 == 0)); then n=\"$n-$((n + RANDOM % 16))\"; fi;"
      "  if ((RANDOM % 2)); then f=allow; else f=deny; fi;"
      "  echo \"$n\" 2>/dev/null > $g/syscalls.$f;"
      "done' & done; wait; echo done");
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(r.output, "done\n");
  std::map<std::string, std::set<int>> allowed;
  allowed[""] = parse_list(cat("syscalls.allow"));
  EXPECT_EQ(allowed[""].size(), static_cast<std::size_t>(kWidth));
  bool some_denied = false;
  for (const auto& g : groups) {
    allowed[g] = parse_list(cat(g + "/syscalls.allow"));
    const auto denied = parse_list(cat(g + "/syscalls.deny"));
    some_denied = some_denied || !denied.empty();
    // allow and deny partition 0..511.
    for (int n = 0; n < kWidth; ++n) EXPECT_NE(allowed[g].contains(n), denied.contains(n)) << g << ": " << n;
    EXPECT_TRUE(allowed[g].contains(kRestartSyscall)) << g;
  }
  EXPECT_TRUE(some_denied);
  for (const auto& g : groups) {
    const auto slash = g.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : g.substr(0, slash);
    for (int n : allowed[g])
      EXPECT_TRUE(allowed[parent].contains(n)) << g << " allows " << n << " but its parent '" << parent << "' does not";
  }
}

}  // namespace
}  // namespace syscg::test
