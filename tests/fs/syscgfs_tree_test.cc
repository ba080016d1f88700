// Integration tests: a real syscgfs mount driven by real shell tools (see
// tests/support/syscgfs_fixture.h); every process a test starts is killed
// and reaped before the test ends.
//
// The tree: control files, mkdir, rmdir and rename, and their errors.
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

TEST_F(SyscgfsTest, MkdirDenyReadRmdir) {
  EXPECT_EQ(sh("mkdir web && echo 59 > web/syscalls.deny && cat web/syscalls.deny").output, "59\n");
  auto r = sh("echo 59 > web/php 2>&1; mkdir web/php && echo 59 > web/php/syscalls.allow");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("Operation not permitted"), std::string::npos) << r.output;
  EXPECT_EQ(sh("rmdir web/php && rmdir web").status, 0);
}

// ---------------------------------------------------------------------------
// The tree

TEST_F(SyscgfsTest, RootAndGroupsHoldTheirControlFiles) {
  const std::string cgroup_files = "cgroup.max.depth\ncgroup.max.descendants\ncgroup.procs\ncgroup.stat\n";
  const std::string syscalls_files =
      "syscalls.allow\nsyscalls.bpf\nsyscalls.denied\nsyscalls.deny\nsyscalls.mode\nsyscalls.oci\nsyscalls.stricter\n"
      "syscalls.systemd\nsyscalls.warnings\n";
  const std::string root_files = cgroup_files + syscalls_files;
  EXPECT_EQ(ok("LC_ALL=C ls -A"), root_files);
  ok("mkdir web && mkdir web/php");
  EXPECT_EQ(ok("LC_ALL=C ls -A"), root_files + "web\n");
  EXPECT_EQ(ok("LC_ALL=C ls -A web"), "cgroup.events\n" + cgroup_files + "php\n" + syscalls_files);
  EXPECT_EQ(ok("LC_ALL=C ls -A web/php"), "cgroup.events\n" + root_files);
  // The root has no cgroup.events.
  expect_fails("cat cgroup.events", ENOENT);
  EXPECT_EQ(cat("web/cgroup.events"), "populated 0\n");
  EXPECT_EQ(cat("web/php/cgroup.events"), "populated 0\n");
  // Default contents.
  EXPECT_EQ(cat("syscalls.allow"), list_text(0, kWidth - 1, false));
  EXPECT_EQ(cat("syscalls.deny"), "\n");
  EXPECT_EQ(cat("web/php/syscalls.allow"), list_text(0, kWidth - 1, false));
  EXPECT_EQ(cat("web/php/syscalls.deny"), "\n");
  EXPECT_EQ(cat("cgroup.max.depth"), "max\n");
  EXPECT_EQ(cat("web/cgroup.max.descendants"), "max\n");
  EXPECT_EQ(cat("web/cgroup.procs"), "");
}

TEST_F(SyscgfsTest, CgroupStatCountsDescendantsAndMembers) {
  EXPECT_EQ(cat("cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  ok("mkdir a a/b a/b/c d");
  EXPECT_EQ(cat("cgroup.stat"), "nr_descendants 4\nnr_members 0\n");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  EXPECT_EQ(cat("a/b/c/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > a/b/cgroup.procs && echo " + s2.id() + " > a/b/cgroup.procs");
  EXPECT_EQ(cat("a/b/cgroup.stat"), "nr_descendants 1\nnr_members 2\n");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  ok("rmdir a/b/c");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 1\nnr_members 0\n");
  s1.end();
  s2.end();
}

// ---------------------------------------------------------------------------
// mkdir / rmdir

TEST_F(SyscgfsTest, MkdirErrors) {
  ok("mkdir web");
  expect_fails("mkdir web", EEXIST);
  expect_fails("mkdir cgroup.procs", EEXIST);  // a control file's name
  expect_fails("mkdir web/cgroup.stat", EEXIST);
  // Reserved prefixes and invalid names.
  expect_fails("mkdir cgroup.foo", EINVAL);
  expect_fails("mkdir syscalls.x", EINVAL);
  expect_fails("mkdir web/cgroup.", EINVAL);
  EXPECT_EQ(python(R"(
import errno, os
try:
    os.mkdir("bad\nname")
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno]))"),
            "EINVAL\n");
  // A missing parent.
  expect_fails("mkdir nothere/x", ENOENT);
  // Nothing was created by the failures.
  EXPECT_EQ(ok("LC_ALL=C ls -A | grep -v '^cgroup\\.' | grep -v '^syscalls\\.'"), "web\n");
  EXPECT_EQ(ok("LC_ALL=C ls -A web | grep -v '^cgroup\\.' | grep -v '^syscalls\\.'; true"), "");
}

TEST_F(SyscgfsTest, MkdirBeyondMaxDepthIsEagain) {
  ok("mkdir web");
  ok("echo 0 > web/cgroup.max.depth");
  EXPECT_EQ(cat("web/cgroup.max.depth"), "0\n");
  expect_fails("mkdir web/x", EAGAIN);
  ok("echo 1 > web/cgroup.max.depth && mkdir web/x");
  expect_fails("mkdir web/x/y", EAGAIN);
  // An ancestor's limit counts too.
  ok("echo 2 > cgroup.max.depth");
  expect_fails("mkdir web/x/y", EAGAIN);
  ok("echo max > web/cgroup.max.depth && echo max > cgroup.max.depth && mkdir web/x/y");
  // A negative limit is out of range and changes nothing.
  expect_fails("echo -1 > web/cgroup.max.depth", ERANGE);
  EXPECT_EQ(cat("web/cgroup.max.depth"), "max\n");
}

TEST_F(SyscgfsTest, MkdirBeyondMaxDescendantsIsEagain) {
  ok("mkdir web");
  ok("echo 0 > web/cgroup.max.descendants");
  expect_fails("mkdir web/a", EAGAIN);
  ok("echo 2 > web/cgroup.max.descendants");
  ok("mkdir web/a web/a/b");
  expect_fails("mkdir web/c", EAGAIN);
  expect_fails("mkdir web/a/c", EAGAIN);
  EXPECT_EQ(cat("web/cgroup.max.descendants"), "2\n");
  EXPECT_EQ(cat("web/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  // The root's limit applies to the whole tree.
  ok("echo 3 > cgroup.max.descendants");
  expect_fails("mkdir other", EAGAIN);
  ok("rmdir web/a/b && mkdir other");
}

TEST_F(SyscgfsTest, RmdirErrors) {
  ok("mkdir web web/php");
  expect_fails("rmdir web", EBUSY);  // a child group
  expect_fails("rmdir nothere", ENOENT);
  expect_fails("rmdir web/nothere", ENOENT);
  {
    Sleeper s;
    ok("echo " + s.id() + " > web/php/cgroup.procs");
    expect_fails("rmdir web/php", EBUSY);  // a member
    ok("test -d web/php");
    s.end();
  }
  ok("rmdir web/php && rmdir web");
  EXPECT_EQ(ok("test -e web; echo $?"), "1\n");
}

TEST_F(SyscgfsTest, RegularFilesCannotBeCreated) {
  ok("mkdir web");
  expect_fails("touch newfile", EPERM);
  expect_fails("echo > newfile", EPERM);
  expect_fails("touch web/newfile", EPERM);
  expect_fails("echo 59 > web/newfile", EPERM);
  EXPECT_EQ(ok("test -e newfile; echo $?"), "1\n");
  EXPECT_EQ(ok("test -e web/newfile; echo $?"), "1\n");
}

TEST_F(SyscgfsTest, ControlFilesCannotBeRemovedOrRenamed) {
  ok("mkdir web web/php");
  expect_fails("rm web/cgroup.procs", EPERM);
  expect_fails("rm -f web/syscalls.deny", EPERM);
  expect_fails("rm syscalls.allow", EPERM);
  expect_fails("mv web/syscalls.deny web/syscalls.x", EPERM);
  expect_fails("mv web/cgroup.procs web/php/cgroup.procs", EPERM);
  expect_fails("mv cgroup.stat stat", EPERM);
  EXPECT_EQ(ok("LC_ALL=C ls -A web"),
            "cgroup.events\ncgroup.max.depth\ncgroup.max.descendants\ncgroup.procs\ncgroup.stat\n"
            "php\nsyscalls.allow\nsyscalls.bpf\nsyscalls.denied\nsyscalls.deny\nsyscalls.mode\nsyscalls.oci\n"
            "syscalls.stricter\nsyscalls.systemd\nsyscalls.warnings\n");
  ok("test -f syscalls.allow && test -f cgroup.stat && test ! -e stat");
}

TEST_F(SyscgfsTest, GroupsRenameWithinTheirParentOnly) {
  ok("mkdir a a/x other && echo 59 > a/syscalls.deny");
  ok("mv a b");
  EXPECT_EQ(ok("test -e a; echo $?"), "1\n");
  EXPECT_EQ(cat("b/syscalls.deny"), "59\n");    // the policy travels with the group
  EXPECT_EQ(cat("b/x/syscalls.deny"), "59\n");  // and so do its children
  ok("mv b/x b/y && test -d b/y");
  // Across parents: refused, nothing moves.
  expect_fails("mv b other/b", EPERM);
  expect_fails("mv b/y y", EPERM);
  ok("test -d b && test -d b/y && test ! -e other/b && test ! -e y");
}

}  // namespace
}  // namespace syscg::test
