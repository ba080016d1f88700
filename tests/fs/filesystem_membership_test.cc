// Unit tests of syscgfs without a mount: moves through cgroup.procs, delegation, no self-release, forks and exits.
#include "tests/fs/filesystem_fixture.h"

#include <poll.h>

namespace syscg::fs {
namespace {

using unit::FilesystemTest;
using unit::kRoot;
using unit::kUser;

TEST_F(FilesystemTest, AttachAsksTheSeamWithTheGroupsSet) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "execve"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "2001"), 0);  // a thread id: the process moves
  ASSERT_EQ(fake_.attaches.size(), 1u);
  EXPECT_EQ(fake_.attaches[0].pid, 2000);
  EXPECT_FALSE(fake_.attaches[0].allowed.test(59));
  EXPECT_EQ(read(web, "cgroup.procs"), "2000\n");
  EXPECT_EQ(read(web, "cgroup.events"), "populated 1\n");
}

TEST_F(FilesystemTest, ARefusedAttachChangesNothing) {
  const auto web = mkdir(kRootInode, "web");
  fake_.refuse_attach = Errc::busy;
  EXPECT_EQ(write(web, "cgroup.procs", "3000"), EBUSY);
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  EXPECT_FALSE(hierarchy_.group_of(3000));
}

TEST_F(FilesystemTest, ProcsWriteErrors) {
  const auto web = mkdir(kRootInode, "web");
  EXPECT_EQ(write(web, "cgroup.procs", "4242"), ESRCH);
  EXPECT_EQ(write(web, "cgroup.procs", "abc"), EINVAL);
  EXPECT_EQ(write(web, "cgroup.procs", "-5"), EINVAL);
  EXPECT_EQ(write(web, "cgroup.procs", "0", kRoot), 0);  // the writer itself
  EXPECT_EQ(read(web, "cgroup.procs"), "4000\n");
  EXPECT_TRUE(fake_.attaches.size() == 1);
}

TEST_F(FilesystemTest, OnlyRootOrTheOwnerMovesAProcess) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(fs_.setattr(
                   file(web, "cgroup.procs"),
                   [] {
                     struct stat s {};
                     s.st_mode = 0666;
                     return s;
                   }(),
                   set_attr::mode, kRoot)
                .has_value(),
            true);
  ASSERT_EQ(fs_.setattr(
                   file(kRootInode, "cgroup.procs"),
                   [] {
                     struct stat s {};
                     s.st_mode = 0666;
                     return s;
                   }(),
                   set_attr::mode, kRoot)
                .has_value(),
            true);
  EXPECT_EQ(write(web, "cgroup.procs", "3000", kUser), EACCES);  // root's process
  EXPECT_TRUE(fake_.attaches.empty());
  EXPECT_EQ(write(web, "cgroup.procs", "2000", kUser), 0);  // its own
}

TEST_F(FilesystemTest, DelegationNeedsTheCommonAncestorsProcs) {
  const auto web = mkdir(kRootInode, "web");
  const auto a = mkdir(web, "a"), b = mkdir(web, "b");
  struct stat own {};
  own.st_uid = kUser.uid;
  own.st_gid = kUser.gid;
  for (auto ino : {file(a, "cgroup.procs"), file(b, "cgroup.procs")})
    ASSERT_TRUE(fs_.setattr(ino, own, set_attr::uid | set_attr::gid, kRoot));
  ASSERT_EQ(write(a, "cgroup.procs", "2000"), 0);  // root puts the user's process in a
  // a -> b: the common ancestor web's cgroup.procs is root's, 0644.
  EXPECT_EQ(write(b, "cgroup.procs", "2000", kUser), EACCES);
  ASSERT_TRUE(fs_.setattr(file(web, "cgroup.procs"), own, set_attr::uid | set_attr::gid, kRoot));
  EXPECT_EQ(write(b, "cgroup.procs", "2000", kUser), 0);
  EXPECT_EQ(read(b, "cgroup.procs"), "2000\n");
}

TEST_F(FilesystemTest, ForkAndExitReportsUpdateMembership) {
  const auto web = mkdir(kRootInode, "web");
  fake_.listener->forked(3000, 3001);  // not a member's child: ignored
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  fake_.listener->forked(3000, 3001);
  EXPECT_EQ(read(web, "cgroup.procs"), "3000\n3001\n");
  fake_.listener->exited(3000);
  EXPECT_EQ(read(web, "cgroup.procs"), "3001\n");
}

TEST_F(FilesystemTest, MembersCannotReleaseThemselves) {
  const auto web = mkdir(kRootInode, "web");
  const auto sub = mkdir(web, "sub");
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  const Caller member{0, 0, 3000};  // root, but confined in web
  EXPECT_EQ(write(web, "syscalls.allow", "59", member), EPERM);
  EXPECT_EQ(write(kRootInode, "cgroup.procs", "0", member), EPERM);
  const auto other = mkdir(kRootInode, "other");
  EXPECT_EQ(write(other, "cgroup.procs", "1000", member), EPERM);
  EXPECT_EQ(read(web, "syscalls.deny"), "59\n");
  EXPECT_EQ(hierarchy_.group_of(3000), decode_inode(web).group);
  // Below its own group it may tighten, allow what web allows, and populate.
  EXPECT_EQ(write(sub, "syscalls.deny", "60", member), 0);
  EXPECT_EQ(write(sub, "syscalls.allow", "60", member), 0);
  EXPECT_EQ(write(sub, "cgroup.procs", "0", member), 0);
  EXPECT_EQ(hierarchy_.group_of(3000), decode_inode(sub).group);
  // Non-members are not affected.
  EXPECT_EQ(write(web, "syscalls.allow", "59"), 0);
}

TEST_F(FilesystemTest, MembersCannotPullProcessesOutOfGroupsOutsideTheirSubtree) {
  const auto strict = mkdir(kRootInode, "strict");
  const auto open = mkdir(kRootInode, "open");
  ASSERT_EQ(write(strict, "syscalls.deny", "63"), 0);
  ASSERT_EQ(write(strict, "cgroup.procs", "2500"), 0);
  ASSERT_EQ(write(open, "cgroup.procs", "3000"), 0);
  const Caller member{0, 0, 3000};  // root, confined in open
  EXPECT_EQ(write(open, "cgroup.procs", "2500", member), EPERM);
  EXPECT_EQ(hierarchy_.group_of(2500), decode_inode(strict).group);
  // A process in no group it may still confine below its own.
  fake_.processes[2600] = {2600, 0, 0, 0, 26000};
  EXPECT_EQ(write(open, "cgroup.procs", "2600", member), 0);
  EXPECT_EQ(hierarchy_.group_of(2600), decode_inode(open).group);
}

TEST_F(FilesystemTest, ExitedMembersLeaveAndDoNotBlockRmdir) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(fs_.rmdir(kRootInode, "web").error().code, Errc::busy);
  fake_.exited.insert(3000);
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  EXPECT_EQ(read(web, "cgroup.events"), "populated 0\n");
  EXPECT_TRUE(fs_.rmdir(kRootInode, "web"));
}

}  // namespace
}  // namespace syscg::fs
