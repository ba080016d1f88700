// Unit tests of syscgfs without a mount: namespace operations, attributes, reads, polls and bad writes.
#include "tests/fs/filesystem_fixture.h"

#include <poll.h>

namespace syscg::fs {
namespace {

using unit::FilesystemTest;
using unit::kRoot;
using unit::kUser;

TEST_F(FilesystemTest, InodesAreGroupIdsAndTaggedFiles) {
  EXPECT_EQ(inode_of(kRootGroup, FileKind::dir), kRootInode);
  const auto web = mkdir(kRootInode, "web");
  std::set<Ino> seen{kRootInode, web};
  for (const auto& f : kControlFiles) {
    const auto ino = file(web, std::string(f.name));
    EXPECT_TRUE(seen.insert(ino).second) << f.name;
    EXPECT_EQ(decode_inode(ino).group, decode_inode(web).group);
    EXPECT_EQ(decode_inode(ino).kind, f.kind);
  }
}

TEST_F(FilesystemTest, RootHasNoEventsFileAndReadOnlyPolicy) {
  EXPECT_EQ(fs_.lookup(kRootInode, "cgroup.events").error().code, Errc::not_found);
  EXPECT_EQ(write(kRootInode, "syscalls.deny", "59"), EPERM);
  EXPECT_EQ(write(kRootInode, "syscalls.allow", "59"), EPERM);
  EXPECT_EQ(fs_.getattr(file(kRootInode, "syscalls.deny")).value().st_mode & 07777, 0444u);
}

TEST_F(FilesystemTest, BadWritesChangeNothing) {
  const auto web = mkdir(kRootInode, "web");
  const auto before = read(web, "syscalls.allow");
  EXPECT_EQ(write(web, "syscalls.deny", "1 foo"), EINVAL);
  EXPECT_EQ(write(web, "syscalls.deny", "1 512"), ERANGE);
  EXPECT_EQ(write(web, "syscalls.deny", std::string(4097, '1')), E2BIG);
  EXPECT_EQ(write(web, "cgroup.max.depth", "-1"), ERANGE);
  EXPECT_EQ(read(web, "syscalls.allow"), before);
  EXPECT_EQ(read(web, "cgroup.max.depth"), "max\n");
}

TEST_F(FilesystemTest, ReadsServeASnapshotTakenAtOffsetZero) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "1"), 0);
  auto h = fs_.open(file(web, "syscalls.deny"), O_RDONLY, kRoot).value();
  EXPECT_EQ(fs_.read(h, 0, 1).value(), "1");
  ASSERT_EQ(write(web, "syscalls.deny", "2"), 0);
  EXPECT_EQ(fs_.read(h, 1, 100).value(), "\n");  // still the old snapshot
  EXPECT_EQ(fs_.read(h, 0, 100).value(), "1 2\n");
  EXPECT_EQ(fs_.read(h, 100, 100).value(), "");
  fs_.release(h);
}

TEST_F(FilesystemTest, PollReportsEventsChangesUntilReread) {
  const auto web = mkdir(kRootInode, "web");
  auto h = fs_.open(file(web, "cgroup.events"), O_RDONLY, kRoot).value();
  EXPECT_EQ(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_NE(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  EXPECT_EQ(fs_.read(h, 0, 100).value(), "populated 1\n");
  EXPECT_EQ(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  fs_.release(h);
}

TEST_F(FilesystemTest, NamespaceErrors) {
  const auto web = mkdir(kRootInode, "web");
  mkdir(kRootInode, "other");
  EXPECT_EQ(fs_.mkdir(kRootInode, "web", 0755, kRoot).error().code, Errc::exists);
  EXPECT_EQ(fs_.mkdir(kRootInode, "cgroup.procs", 0755, kRoot).error().code, Errc::exists);
  EXPECT_EQ(fs_.mkdir(kRootInode, "cgroup.new", 0755, kRoot).error().code, Errc::invalid);
  EXPECT_EQ(fs_.create_file(web, "new").error().code, Errc::permission);
  EXPECT_EQ(fs_.unlink(web, "syscalls.deny").error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(web, "syscalls.deny", web, "x", 0).error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(kRootInode, "web", web, "x", 0).error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(kRootInode, "web", kRootInode, "other", 0).error().code, Errc::exists);
  EXPECT_TRUE(fs_.rename(kRootInode, "web", kRootInode, "www", 0));
  EXPECT_EQ(fs_.lookup(kRootInode, "www").value().ino, web);
  EXPECT_EQ(fs_.rmdir(kRootInode, "nope").error().code, Errc::not_found);
  EXPECT_EQ(fs_.lookup(file(web, "syscalls.deny"), "x").error().code, Errc::not_dir);
}

TEST_F(FilesystemTest, NewGroupsBelongToTheirCreator) {
  const auto web = mkdir(kRootInode, "web", kUser);
  EXPECT_EQ(fs_.getattr(web).value().st_uid, kUser.uid);
  EXPECT_EQ(fs_.getattr(file(web, "cgroup.procs")).value().st_uid, kUser.uid);
  EXPECT_EQ(fs_.getattr(kRootInode).value().st_nlink, 3u);
}

TEST_F(FilesystemTest, ReaddirListsFilesThenGroups) {
  const auto web = mkdir(kRootInode, "web");
  mkdir(web, "b");
  mkdir(web, "a");
  auto h = fs_.opendir(web).value();
  std::vector<std::string> names;
  const auto entries = fs_.readdir(h, 0).value();
  for (const auto& e : entries) names.push_back(e.name);
  fs_.release(h);
  std::vector<std::string> want{".", ".."};
  for (const auto& f : kControlFiles) want.emplace_back(f.name);
  want.insert(want.end(), {"a", "b"});
  EXPECT_EQ(names, want);
}

}  // namespace
}  // namespace syscg::fs
