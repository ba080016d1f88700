// Unit tests of syscgfs without a mount: policy writes and what they make the seam do, the supervisor's decisions and the read-only reports.
#include "tests/fs/filesystem_fixture.h"

#include <poll.h>

namespace syscg::fs {
namespace {

using unit::FilesystemTest;
using unit::kRoot;
using unit::kUser;

TEST_F(FilesystemTest, DenyReportsEveryMemberOfTheSubtree) {
  const auto web = mkdir(kRootInode, "web");
  const auto php = mkdir(web, "php");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  ASSERT_EQ(write(php, "cgroup.procs", "3000"), 0);
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(fake_.changes.size(), 1u);
  ASSERT_EQ(fake_.changes[0].size(), 2u);
  for (const auto& m : fake_.changes[0]) EXPECT_FALSE(m.allowed.test(59)) << m.pid;
  // An allow cannot loosen running members: nothing to enforce.
  ASSERT_EQ(write(web, "syscalls.allow", "59"), 0);
  EXPECT_EQ(fake_.changes.size(), 1u);
}

TEST_F(FilesystemTest, DenyChasesChildrenForkedBeforeTightening) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  fake_.unfiltered_children[1000] = 1001;  // forked before 1000 got the filter
  fake_.unfiltered_children[1001] = 1002;  // and its child, likewise
  fake_.listener->forked(1000, 1500);      // reported by fork events only: inherited the filter
  ASSERT_EQ(read(web, "cgroup.procs"), "1000\n1500\n");
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(fake_.changes.size(), 3u);
  EXPECT_EQ(fake_.changes[0].size(), 2u);  // 1000 and 1500: members when the write began
  ASSERT_EQ(fake_.changes[1].size(), 1u);
  EXPECT_EQ(fake_.changes[1][0].pid, 1001);
  ASSERT_EQ(fake_.changes[2].size(), 1u);
  EXPECT_EQ(fake_.changes[2][0].pid, 1002);
  EXPECT_EQ(read(web, "cgroup.procs"), "1000\n1001\n1002\n1500\n");
  EXPECT_GT(fake_.syncs, 0);
}

TEST_F(FilesystemTest, WarningsNameKilledAndPtraceCapableMembers) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "4000"), 0);
  EXPECT_EQ(read(web, "syscalls.warnings"), "");
  fake_.ptrace_capable.insert(3000);
  fake_.listener->killed(4000, decode_inode(web).group, "test");
  fake_.listener->exited(4000);  // the kill's exit event
  const auto text = read(web, "syscalls.warnings");
  EXPECT_NE(text.find("subvert 3000 "), std::string::npos) << text;
  EXPECT_NE(text.find("killed 4000 "), std::string::npos) << text;
  ASSERT_EQ(write(web, "syscalls.deny", "ptrace,process_vm_writev,pidfd_getfd"), 0);
  EXPECT_EQ(read(web, "syscalls.warnings").find("subvert"), std::string::npos);
  EXPECT_EQ(write(web, "syscalls.warnings", "x"), EACCES);
}

TEST_F(FilesystemTest, IoUringCallsAreDecidedAsTheFiltersEnforceThem) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<int>(0));
  ASSERT_EQ(write(web, "syscalls.deny", "openat"), 0);  // io_uring could open files: io_uring goes
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<int>(EPERM));
  EXPECT_EQ(read(web, "syscalls.warnings").substr(0, 13), "io_uring 257 ");
  ASSERT_EQ(write(web, "syscalls.allow", "openat"), 0);
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<int>(0));
}

TEST_F(FilesystemTest, StricterListsWhatMembersCannotUseOfTheirGroupsSet) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(read(web, "syscalls.stricter"), "");
  fake_.lost[1000] = grammar::parse_syscall_list("59 62-64", grammar::ListFile::deny).value();
  EXPECT_EQ(read(web, "syscalls.stricter"), "1000 59,62-64 tightened\n");
  ASSERT_EQ(write(web, "syscalls.deny", "62"), 0);  // only what the group allows counts
  EXPECT_EQ(read(web, "syscalls.stricter"), "1000 59,63-64 tightened\n");
  EXPECT_EQ(write(web, "syscalls.stricter", "1"), EACCES);
  fake_.exited.insert(1000);  // exited members are not listed
  EXPECT_EQ(read(web, "syscalls.stricter"), "");
}

TEST_F(FilesystemTest, TrappedCallsAreDecidedFromTheCurrentPolicyAndDenialsCounted) {
  sys::MemoryLog log;
  Hierarchy h;
  Filesystem fs(h, fake_, log, Options{{}, {}, true});
  fake_.set_listener(&fs);
  const auto web = fs.mkdir(kRootInode, "web", 0755, kRoot).value().ino;
  const auto write_to = [&](const char* file, const char* text) {
    auto hd = fs.open(fs.lookup(web, file).value().ino, O_WRONLY, kRoot).value();
    const bool ok = static_cast<bool>(fs.write(hd, text, kRoot));
    fs.release(hd);
    return ok;
  };
  const auto denied = [&] {
    auto hd = fs.open(fs.lookup(web, "syscalls.denied").value().ino, O_RDONLY, kRoot).value();
    auto text = fs.read(hd, 0, 4096).value();
    fs.release(hd);
    return text;
  };
  ASSERT_TRUE(write_to("cgroup.procs", "1000"));
  EXPECT_EQ(fs.trapped(1000, 59), std::optional<int>(0));
  ASSERT_TRUE(write_to("syscalls.deny", "59"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fs.trapped(1000, 59), std::optional<int>(EPERM));
  EXPECT_EQ(fs.trapped(4000, 59), std::nullopt) << "not a member";
  EXPECT_EQ(denied(), "59 execve 5\n");
  const auto logged = log.lines();
  ASSERT_EQ(logged.size(), 3u) << "the 1st, 2nd and 4th denial";
  EXPECT_NE(logged[0].find("process 1000 in /web called 59 (execve)"), std::string::npos) << logged[0];
  ASSERT_TRUE(write_to("syscalls.allow", "59"));
  EXPECT_EQ(fs.trapped(1000, 59), std::optional<int>(0));
  EXPECT_EQ(denied(), "59 execve 5\n") << "counts stay";
}

TEST_F(FilesystemTest, PolicyWritesWithoutMembersDoNotCallTheSeam) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "1-10"), 0);
  EXPECT_TRUE(fake_.changes.empty());
}

}  // namespace
}  // namespace syscg::fs
