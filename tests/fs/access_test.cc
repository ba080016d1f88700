// Unit tests of the access rules (fs/access.h) over a hand-made tree.
#include "fs/access.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <map>

namespace syscg::fs {
namespace {

// 1 -> 2 (web) -> 4 (web/php); 1 -> 3 (other).
class MapTree final : public Tree {
 public:
  bool contains(GroupId outer, GroupId inner) const override {
    for (auto g = parent_.find(inner) == parent_.end() ? std::nullopt : std::optional(inner); g && *g != kNoGroup;
         g = parent(*g))
      if (*g == outer) return true;
    return false;
  }
  std::optional<GroupId> parent(GroupId group) const override {
    auto it = parent_.find(group);
    if (it == parent_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<GroupId, GroupId> parent_{{1, kNoGroup}, {2, 1}, {3, 1}, {4, 2}};
};

constexpr GroupId kWeb = 2, kOther = 3, kPhp = 4;

TEST(FilesystemAccess, OpenRefusesWritesToTheRootsPolicyAndReadOnlyFiles) {
  EXPECT_TRUE(check_open({kRootGroup, FileKind::syscalls_deny}, O_RDONLY));
  EXPECT_EQ(check_open({kRootGroup, FileKind::syscalls_deny}, O_WRONLY).error().code, Errc::permission);
  EXPECT_EQ(check_open({kRootGroup, FileKind::syscalls_allow}, O_RDWR).error().code, Errc::permission);
  EXPECT_TRUE(check_open({kWeb, FileKind::syscalls_allow}, O_WRONLY));
  EXPECT_TRUE(check_open({kRootGroup, FileKind::procs}, O_WRONLY));
  for (auto kind : {FileKind::stat, FileKind::events, FileKind::stricter, FileKind::denied, FileKind::warnings})
    EXPECT_EQ(check_open({kWeb, kind}, O_WRONLY).error().code, Errc::access);
  EXPECT_EQ(check_open({kWeb, FileKind::dir}, O_RDONLY).error().code, Errc::is_dir);
}

TEST(FilesystemAccess, WriteBitsFollowOwnerGroupOther) {
  const Caller user{1000, 100, 1};
  EXPECT_TRUE(may_write(user, 0200, 1000, 0));
  EXPECT_FALSE(may_write(user, 0020, 1000, 100)) << "the owner's bits apply to the owner";
  EXPECT_TRUE(may_write(user, 0020, 0, 100));
  EXPECT_FALSE(may_write(user, 0644, 0, 0));
  EXPECT_TRUE(may_write(user, 0002, 0, 0));
  EXPECT_TRUE(may_write(Caller{0, 0, 1}, 0444, 1000, 100)) << "root";
}

TEST(FilesystemAccess, OnlyRootOrTheProcesssRealOrSavedUidMovesIt) {
  const Process target{42, 1000, 0, 2000, 1};
  EXPECT_TRUE(check_owner(Caller{0, 0, 1}, target));
  EXPECT_TRUE(check_owner(Caller{1000, 0, 1}, target));
  EXPECT_TRUE(check_owner(Caller{2000, 0, 1}, target));
  EXPECT_EQ(check_owner(Caller{0 + 3000, 0, 1}, target).error().code, Errc::access);
}

TEST(FilesystemAccess, CommonAncestor) {
  const MapTree tree;
  EXPECT_EQ(common_ancestor(tree, kPhp, kOther).value(), kRootGroup);
  EXPECT_EQ(common_ancestor(tree, kPhp, kWeb).value(), kWeb);
  EXPECT_EQ(common_ancestor(tree, kWeb, kPhp).value(), kWeb);
  EXPECT_EQ(common_ancestor(tree, kPhp, kPhp).value(), kPhp);
  EXPECT_EQ(common_ancestor(tree, 99, kWeb).error().code, Errc::not_found);
}

TEST(FilesystemAccess, MembersCannotLoosenTheirGroupOrAnAncestor) {
  const MapTree tree;
  EXPECT_EQ(check_policy_write(tree, kPhp, kPhp, FileKind::syscalls_allow).error().code, Errc::permission);
  EXPECT_EQ(check_policy_write(tree, kPhp, kWeb, FileKind::syscalls_allow).error().code, Errc::permission);
  EXPECT_EQ(check_policy_write(tree, kPhp, kRootGroup, FileKind::syscalls_allow).error().code, Errc::permission);
  EXPECT_TRUE(check_policy_write(tree, kWeb, kPhp, FileKind::syscalls_allow)) << "below its own group";
  EXPECT_TRUE(check_policy_write(tree, kPhp, kOther, FileKind::syscalls_allow));
  EXPECT_TRUE(check_policy_write(tree, kPhp, kPhp, FileKind::syscalls_deny)) << "tightening";
  EXPECT_TRUE(check_policy_write(tree, std::nullopt, kWeb, FileKind::syscalls_allow)) << "not a member";
}

TEST(FilesystemAccess, MembersMoveOnlyWithinTheirSubtree) {
  const MapTree tree;
  EXPECT_TRUE(check_move(tree, std::nullopt, kOther, kPhp));
  EXPECT_TRUE(check_move(tree, kWeb, kPhp, kWeb));
  EXPECT_TRUE(check_move(tree, kWeb, kWeb, std::nullopt)) << "a process in no group";
  EXPECT_EQ(check_move(tree, kPhp, kWeb, kPhp).error().code, Errc::permission) << "up and out";
  EXPECT_EQ(check_move(tree, kWeb, kOther, std::nullopt).error().code, Errc::permission);
  EXPECT_EQ(check_move(tree, kWeb, kPhp, kOther).error().code, Errc::permission) << "pulled from outside";
}

}  // namespace
}  // namespace syscg::fs
