// Integration tests: a real syscgfs mount driven by real shell tools (see
// tests/support/syscgfs_fixture.h); every process a test starts is killed
// and reaped before the test ends.
//
// Reading and writing control files; modes and owners.
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
// Files like kernfs: uncached snapshot reads, one-command writes

TEST_F(SyscgfsTest, ReadsServeTheSameSnapshotAtAnyOffset) {
  ok("mkdir g && echo 100-499 > g/syscalls.deny");
  const std::string expected = list_text(100, 499);
  ASSERT_GT(expected.size(), 1000U);
  EXPECT_EQ(cat("g/syscalls.deny"), expected);
  EXPECT_EQ(ok("head -c 5 g/syscalls.deny"), expected.substr(0, 5));
  EXPECT_EQ(ok("dd if=g/syscalls.deny bs=1 status=none"), expected);
  EXPECT_EQ(ok("dd if=g/syscalls.deny bs=7 skip=3 status=none"), expected.substr(21));
  EXPECT_EQ(python(R"(
import sys
sys.stdout.write(open("g/syscalls.deny").read()))"),
            expected);
  // pread in 7-byte pieces at increasing offsets, then single probes.
  EXPECT_EQ(python(R"(
import os, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
parts, off = [], 0
while True:
    b = os.pread(fd, 7, off)
    if not b:
        break
    parts.append(b)
    off += len(b)
sys.stdout.write(b"".join(parts).decode()))"),
            expected);
  EXPECT_EQ(python(R"(
import os, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
sys.stdout.write(os.pread(fd, 10, 5).decode() + "|" + os.pread(fd, 3, 0).decode() + "|" +
                 os.pread(fd, 100, 100000).decode() + "|"))"),
            expected.substr(5, 10) + "|" + expected.substr(0, 3) + "||");
}

TEST_F(SyscgfsTest, ReadsAreUncachedAndServeSnapshots) {
  ok("mkdir g");
  // Every cat sees the current state (a page cache would serve stale text,
  // and a size-0 file would read empty).
  EXPECT_EQ(ok("cat g/syscalls.deny; echo 7 > g/syscalls.deny; cat g/syscalls.deny; "
               "echo 8 > g/syscalls.deny; cat g/syscalls.deny"),
            "\n7\n7 8\n");
  // One open file: a reader continuing at an offset keeps its snapshot; a
  // read at offset 0 takes a new one.
  EXPECT_EQ(python(R"(
import os, subprocess, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
head = os.pread(fd, 2, 0)
subprocess.run(["bash", "-c", "echo 100-105 > g/syscalls.deny"], check=True)
tail = os.pread(fd, 100, 2)
fresh = os.pread(fd, 100, 0)
sys.stdout.write((head + tail).decode() + "|" + fresh.decode()))"),
            "7 8\n|7 8 100 101 102 103 104 105\n");
}

TEST_F(SyscgfsTest, WriteOfMoreThan4096BytesIsE2big) {
  ok("mkdir g && echo 3 > g/syscalls.deny");
  EXPECT_EQ(python(R"(
import errno, os
fd = os.open("g/syscalls.deny", os.O_WRONLY)
try:
    os.write(fd, b"1 " * 2048 + b"2")
    print("accepted")
except OSError as e:
    print(errno.errorcode[e.errno]))"),
            "E2BIG\n");
  EXPECT_EQ(cat("g/syscalls.deny"), "3\n");
  // Exactly 4096 bytes is one command, accepted.
  EXPECT_EQ(python(R"(
import os
fd = os.open("g/syscalls.deny", os.O_WRONLY)
print(os.write(fd, b"5 " * 2048)))"),
            "4096\n");
  EXPECT_EQ(cat("g/syscalls.deny"), "3 5\n");
}

TEST_F(SyscgfsTest, CoreErrorsReachWriteAndChangeNothing) {
  ok("mkdir p p/c && echo 3 > p/c/syscalls.deny");
  expect_fails("echo foo > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 5 foo > p/c/syscalls.deny", EINVAL);  // all or nothing
  expect_fails("echo 1,,2 > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 219 > p/c/syscalls.deny", EINVAL);  // restart_syscall
  expect_fails("echo 10-5 > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 512 > p/c/syscalls.deny", ERANGE);
  expect_fails("echo 5 512 > p/c/syscalls.deny", ERANGE);
  expect_fails("echo foo > p/c/syscalls.allow", EINVAL);
  expect_fails("echo 512 > p/c/syscalls.allow", ERANGE);
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3\n");
  // Allow beyond the parent.
  ok("echo 59 > p/syscalls.deny");
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3 59\n");  // deny propagates
  expect_fails("echo 59 > p/c/syscalls.allow", EPERM);
  expect_fails("echo 3 59 > p/c/syscalls.allow", EPERM);  // all or nothing
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3 59\n");
  EXPECT_EQ(cat("p/syscalls.deny"), "59\n");
  // A legal allow still works afterwards; allow does not propagate.
  ok("echo 59 > p/syscalls.allow && echo 3 > p/c/syscalls.allow");
  EXPECT_EQ(cat("p/c/syscalls.deny"), "59\n");
  // Limits: garbage and negatives.
  expect_fails("echo lots > p/cgroup.max.depth", EINVAL);
  expect_fails("echo -3 > p/cgroup.max.descendants", ERANGE);
  EXPECT_EQ(cat("p/cgroup.max.depth"), "max\n");
  EXPECT_EQ(cat("p/cgroup.max.descendants"), "max\n");
}

// ---------------------------------------------------------------------------
// stat: modes, owners, link counts

TEST_F(SyscgfsTest, StatShowsModesOwnersAndLinkCounts) {
  ok("mkdir a b a/x");
  const auto st = [&](const std::string& rel) { return ok("stat -c '%A %U %G %h' " + rel); };
  EXPECT_EQ(st("."), "drwxr-xr-x root root 4\n");  // 2 + a, b
  EXPECT_EQ(st("a"), "drwxr-xr-x root root 3\n");  // 2 + x
  EXPECT_EQ(st("b"), "drwxr-xr-x root root 2\n");
  EXPECT_EQ(st("a/x"), "drwxr-xr-x root root 2\n");
  for (const char* f :
       {"syscalls.allow", "syscalls.deny", "cgroup.procs", "cgroup.max.depth", "cgroup.max.descendants"})
    EXPECT_EQ(st(std::string("a/") + f), "-rw-r--r-- root root 1\n") << f;
  EXPECT_EQ(st("a/cgroup.stat"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("a/cgroup.events"), "-r--r--r-- root root 1\n");
  // The root: its policy files are read-only, the rest as in any group.
  EXPECT_EQ(st("syscalls.allow"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("syscalls.deny"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("cgroup.stat"), "-r--r--r-- root root 1\n");
  for (const char* f : {"cgroup.procs", "cgroup.max.depth", "cgroup.max.descendants"})
    EXPECT_EQ(st(f), "-rw-r--r-- root root 1\n") << f;
  ok("rmdir a/x");
  EXPECT_EQ(st("a"), "drwxr-xr-x root root 2\n");
}

TEST_F(SyscgfsTest, RootPolicyIsReadOnlyEvenForRoot) {
  expect_fails("echo 1 > syscalls.deny", EPERM);
  expect_fails("echo 1 > syscalls.allow", EPERM);
  expect_fails("echo a >> syscalls.deny", EPERM);
  EXPECT_EQ(cat("syscalls.deny"), "\n");
  EXPECT_EQ(cat("syscalls.allow"), list_text(0, kWidth - 1, false));
  // Read-only files stay unchanged for root too.
  ok("mkdir g");
  EXPECT_NE(bash("echo 1 > g/cgroup.stat").status, 0);
  EXPECT_NE(bash("echo populated 1 > g/cgroup.events").status, 0);
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  EXPECT_EQ(cat("g/cgroup.events"), "populated 0\n");
}

}  // namespace
}  // namespace syscg::test
