// Unit tests of the saved state: the version-1 text (state_codec.h, read
// for conversion), and a Filesystem saved to a database and rebuilt from it.
#include "tests/fs/filesystem_fixture.h"

#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <unistd.h>

namespace syscg::fs {
namespace {

using unit::FilesystemTest;
using unit::kRoot;
using unit::kUser;

TEST_F(FilesystemTest, RestoreRebuildsTreePolicyOwnersAndMembers) {
  char dir[] = "/tmp/syscg-restore-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/state.db";
  ASSERT_TRUE(Store::create(path, State{}));
  {
    auto store = Store::open(path).value();
    Journal journal([&](std::span<const RowOp> ops) { return store->commit(ops); });
    Hierarchy h;
    Filesystem saved(h, fake_, log_, Options{{}, &journal, false});
    fake_.set_listener(&saved);
    ASSERT_TRUE(saved.restore(store->loaded()));  // empty: saves the root's rows
    auto web = saved.mkdir(kRootInode, "web", 0750, kUser).value().ino;
    auto sub = saved.mkdir(web, "sub", 0755, kRoot).value().ino;
    auto deny = saved.open(saved.lookup(web, "syscalls.deny").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(deny, "execve 300-310", kRoot));
    saved.release(deny);
    auto procs = saved.open(saved.lookup(sub, "cgroup.procs").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(procs, "3000", kRoot));
    saved.release(procs);
    auto depth = saved.open(saved.lookup(kRootInode, "cgroup.max.depth").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(depth, "2", kRoot));
    saved.release(depth);
    ASSERT_TRUE(saved.mkdir(kRootInode, "gone", 0755, kRoot));
    ASSERT_TRUE(saved.rename(kRootInode, "gone", kRootInode, "renamed", 0));
    ASSERT_TRUE(saved.rmdir(kRootInode, "renamed"));
    fake_.set_listener(nullptr);
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  Hierarchy h;
  Filesystem restored(h, fake_, log_);
  fake_.set_listener(&restored);
  ASSERT_TRUE(restored.restore(store.value()->loaded()));
  EXPECT_FALSE(restored.lookup(kRootInode, "renamed"));
  const auto web = restored.lookup(kRootInode, "web").value();
  EXPECT_EQ(web.attr.st_mode & 07777, 0750u);
  EXPECT_EQ(web.attr.st_uid, kUser.uid);
  const auto sub = restored.lookup(web.ino, "sub").value().ino;
  EXPECT_EQ(h.allowed(decode_inode(sub).group).value(), h.allowed(decode_inode(web.ino).group).value());
  EXPECT_FALSE(h.check(decode_inode(sub).group, 59));
  EXPECT_FALSE(h.check(decode_inode(sub).group, 305));
  EXPECT_EQ(h.group_of(3000), decode_inode(sub).group);
  EXPECT_EQ(h.info(kRootGroup).value().max_depth, 2);
  // The seam is told each re-adopted member's saved set (what its filters
  // enforce at least).
  ASSERT_TRUE(fake_.adopted.contains(3000));
  EXPECT_EQ(fake_.adopted[3000], h.allowed(decode_inode(sub).group).value());
  fake_.set_listener(&fs_);
  store.value().reset();
  for (const auto& f : {path, path + "-wal", path + "-shm"}) unlink(f.c_str());
  rmdir(dir);
}

State sample_state() {
  State s;
  GroupRecord root{.path = "/",
                   .allowed = SyscallSet::all(),
                   .errnos = {},
                   .complain = false,
                   .max_depth = grammar::kUnlimited,
                   .max_descendants = 5,
                   .dir = {0755, 0, 0},
                   .files = {}};
  for (auto& f : root.files) f = {0644, 0, 0};
  GroupRecord web = root;
  web.path = "/web site";
  web.max_descendants = grammar::kUnlimited;
  web.max_depth = 2;
  (void)web.allowed.reset(59);
  web.dir = {0750, 1000, 100};
  GroupRecord php = web;
  php.path = "/web site/php";
  (void)php.allowed.reset_range(300, 310);
  s.groups = {root, web, php};
  s.members = {{4242, 123456, "/web site/php"}};
  return s;
}

TEST(FilesystemState, EncodesAndDecodesLosslessly) {
  const auto s = sample_state();
  const auto text = encode(s);
  auto back = decode(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(encode(back.value()), text);
  ASSERT_EQ(back.value().groups.size(), 3u);
  EXPECT_EQ(back.value().groups[1].path, "/web site");
  EXPECT_FALSE(back.value().groups[2].allowed.test(305));
  EXPECT_EQ(back.value().groups[1].dir.uid, 1000u);
  EXPECT_EQ(back.value().members[0].start_time, 123456u);
}

TEST(FilesystemState, CorruptFilesAreRefusedNeverHalfRead) {
  const auto text = encode(sample_state());
  EXPECT_FALSE(decode(text.substr(0, text.size() / 2)));  // cut short
  std::string flipped = text;
  flipped[text.find("group") + 10] ^= 1;
  EXPECT_FALSE(decode(flipped));      // checksum
  EXPECT_FALSE(decode("garbage\n"));  // header
  auto wider = sample_state();
  (void)wider.groups[2].allowed.set(59);  // wider than its parent
  EXPECT_FALSE(decode(encode(wider)));
  auto orphan = sample_state();
  orphan.groups.erase(orphan.groups.begin() + 1);  // parent missing
  orphan.members.clear();
  EXPECT_FALSE(decode(encode(orphan)));
  auto lost = sample_state();
  lost.members[0].path = "/nowhere";
  EXPECT_FALSE(decode(encode(lost)));
}

// A file written before syscalls.stricter and syscalls.denied existed lists
// 7 files per group; the two new read-only files get 0444 and the
// directory's owner.
TEST(FilesystemState, OlderFilesWithFewerControlFilesStillLoad) {
  std::string body = "syscg-state 1\n";
  const std::string seven = " 644:0:0 644:0:0 644:0:0 644:0:0 444:0:0 644:0:0 644:0:0";
  std::string all(kSyscallWidth / 4, 'f');
  body += "group " + all + " max max 755:0:0" + seven + " /\n";
  body += "group " + all + " max max 750:1000:1000" + seven + " /web site\n";
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, as the format says
  for (unsigned char c : body) h = (h ^ c) * 0x100000001b3ULL;
  auto back = decode(body + fmt::format("end {:016x}\n", h));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back.value().groups.size(), 2u);
  EXPECT_EQ(back.value().groups[1].path, "/web site");
  EXPECT_EQ(back.value().groups[1].files[8].mode, 0444u);
  EXPECT_EQ(back.value().groups[1].files[8].uid, 1000u);
  EXPECT_EQ(back.value().groups[1].files[6].mode, 0644u);
}

// A version-1 file (the text format) is still read: it is converted into
// the database on the first start (state.h).
TEST(FilesystemState, LoadAVersion1File) {
  char dir[] = "/tmp/syscg-state-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/state";
  auto none = load_v1(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none.value());
  {
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    const auto text = encode(sample_state());
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  auto loaded = load_v1(path);
  ASSERT_TRUE(loaded && loaded.value());
  EXPECT_EQ(encode(*loaded.value()), encode(sample_state()));
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace syscg::fs

namespace syscg::fs {
namespace {

TEST(FilesystemState, IoFailuresAreIoWithTheErrnoAndCorruptFilesInvalid) {
  char dir[] = "/tmp/syscg-state-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string missing_dir = std::string(dir) + "/no/such/dir/state";
  auto saved = Store::create(missing_dir, State{});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, Errc::io);
  EXPECT_EQ(saved.error().sys_errno, ENOENT) << saved.error().message;
  auto unreadable = load_v1(dir);  // a directory: open succeeds, read fails with EISDIR
  ASSERT_FALSE(unreadable);
  EXPECT_EQ(unreadable.error().code, Errc::io);
  EXPECT_EQ(unreadable.error().sys_errno, EISDIR);
  const std::string corrupt = std::string(dir) + "/state";
  {
    sys::UniqueFd fd(::open(corrupt.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd.get(), "garbage\n", 8), 8);
  }
  auto bad = load_v1(corrupt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid);
  unlink(corrupt.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace syscg::fs
