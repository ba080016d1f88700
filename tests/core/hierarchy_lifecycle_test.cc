// Unit tests of the group tree (core/hierarchy.h): removing groups, limits,
// membership.
#include "tests/core/hierarchy_util.h"

#include "core/hierarchy.h"

#include "core/grammar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace syscg {
namespace {

using namespace hierarchy_testing;

// ---------------------------------------------------------------- remove

TEST(HierarchyTest, RemoveRequiresNoChildrenAndNoMembers) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  ASSERT_TRUE(Ok(h.attach(a, 42)));
  ASSERT_TRUE(Ok(h.attach(b, 43)));
  EXPECT_TRUE(Fails(h.remove(a), Errc::busy));
  EXPECT_TRUE(Fails(h.remove(b), Errc::busy));
  ASSERT_EQ(h.detach(43), b);
  EXPECT_TRUE(Fails(h.remove(a), Errc::busy));  // child and member
  EXPECT_TRUE(Ok(h.remove(b)));
  EXPECT_TRUE(Fails(h.remove(a), Errc::busy));  // member only
  ASSERT_EQ(h.detach(42), a);
  EXPECT_TRUE(Ok(h.remove(a)));
  EXPECT_EQ(info(h, kRootGroup).nr_descendants, 0u);
  EXPECT_EQ(info(h, kRootGroup).nr_children, 0u);
  EXPECT_TRUE(Ok(h.create(kRootGroup, "a")));  // the name is free again
}

TEST(HierarchyTest, RemovedGroupIsNotFoundEverywhere) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId gone = mk(h, a, "b");
  ASSERT_TRUE(Ok(h.remove(gone)));
  EXPECT_TRUE(Fails(h.remove(gone), Errc::not_found));
  EXPECT_TRUE(Fails(h.create(gone, "x"), Errc::not_found));
  EXPECT_TRUE(Fails(h.lookup(gone, "x"), Errc::not_found));
  EXPECT_TRUE(Fails(h.lookup(a, "b"), Errc::not_found));
  EXPECT_TRUE(Fails(h.info(gone), Errc::not_found));
  EXPECT_TRUE(Fails(h.children(gone), Errc::not_found));
  EXPECT_TRUE(Fails(h.allowed(gone), Errc::not_found));
  EXPECT_TRUE(Fails(h.path(gone), Errc::not_found));
  EXPECT_TRUE(Fails(h.allow(gone, of({1})), Errc::not_found));
  EXPECT_TRUE(Fails(h.deny(gone, of({1})), Errc::not_found));
  EXPECT_TRUE(Fails(h.set_max_depth(gone, 1), Errc::not_found));
  EXPECT_TRUE(Fails(h.set_max_descendants(gone, 1), Errc::not_found));
  EXPECT_TRUE(Fails(h.attach(gone, 5), Errc::not_found));
  EXPECT_TRUE(Fails(h.members(gone), Errc::not_found));
  EXPECT_FALSE(h.check(gone, 1));
  EXPECT_FALSE(h.check_naive(gone, 1));
  EXPECT_FALSE(h.group_of(5).has_value());
  EXPECT_TRUE(h.children(a).value().empty());
  for (const auto& g : h.snapshot()) EXPECT_NE(g.id, gone);
}

// ---------------------------------------------------------------- limits

TEST(HierarchyTest, LimitsDefaultToUnlimited) {
  Hierarchy h;
  for (GroupId g : {kRootGroup, mk(h, kRootGroup, "a")}) {
    EXPECT_EQ(info(h, g).max_depth, kUnlimited);
    EXPECT_EQ(info(h, g).max_descendants, kUnlimited);
  }
}

TEST(HierarchyTest, MaxDepthZeroForbidsChildren) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  ASSERT_TRUE(Ok(h.set_max_depth(a, 0)));
  EXPECT_EQ(info(h, a).max_depth, 0);
  EXPECT_TRUE(Fails(h.create(a, "b"), Errc::limit));
  EXPECT_EQ(info(h, a).nr_children, 0u);
  EXPECT_TRUE(Ok(h.create(kRootGroup, "sibling")));
  ASSERT_TRUE(Ok(h.set_max_depth(a, kUnlimited)));
  EXPECT_TRUE(Ok(h.create(a, "b")));
}

TEST(HierarchyTest, MaxDepthOneAllowsChildrenNotGrandchildren) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  ASSERT_TRUE(Ok(h.set_max_depth(a, 1)));
  const GroupId b = mk(h, a, "b");
  const GroupId b2 = mk(h, a, "b2");
  EXPECT_TRUE(Fails(h.create(b, "c"), Errc::limit));
  EXPECT_TRUE(Fails(h.create(b2, "c"), Errc::limit));
  EXPECT_EQ(info(h, a).nr_descendants, 2u);
}

TEST(HierarchyTest, MaxDepthOfAnAncestorAppliesDeepDown) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  ASSERT_TRUE(Ok(h.set_max_depth(a, 3)));
  const GroupId c = mk(h, b, "c");
  const GroupId d = mk(h, c, "d");  // 3 levels below a
  EXPECT_TRUE(Fails(h.create(d, "e"), Errc::limit));
  // The limit is relative to a: on the root it counts from the root.
  ASSERT_TRUE(Ok(h.set_max_depth(a, kUnlimited)));
  ASSERT_TRUE(Ok(h.set_max_depth(kRootGroup, 5)));
  const GroupId e = mk(h, d, "e");  // depth 5
  EXPECT_TRUE(Fails(h.create(e, "f"), Errc::limit));
  EXPECT_TRUE(Ok(h.create(kRootGroup, "top")));
}

TEST(HierarchyTest, MaxDescendantsCountsAllDescendants) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  ASSERT_TRUE(Ok(h.set_max_descendants(a, 3)));
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  const GroupId d = mk(h, c, "d");
  EXPECT_EQ(info(h, a).nr_descendants, 3u);
  EXPECT_TRUE(Fails(h.create(a, "x"), Errc::limit));
  EXPECT_TRUE(Fails(h.create(d, "x"), Errc::limit));  // the ancestor's limit counts
  EXPECT_TRUE(Ok(h.create(kRootGroup, "x")));         // outside a
  ASSERT_TRUE(Ok(h.remove(d)));
  EXPECT_TRUE(Ok(h.create(a, "x")));  // freed up
  EXPECT_TRUE(Fails(h.create(c, "d"), Errc::limit));

  const GroupId z = mk(h, kRootGroup, "z");
  ASSERT_TRUE(Ok(h.set_max_descendants(z, 0)));
  EXPECT_TRUE(Fails(h.create(z, "x"), Errc::limit));
}

TEST(HierarchyTest, NegativeLimitsAreOutOfRange) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  ASSERT_TRUE(Ok(h.set_max_depth(a, 2)));
  ASSERT_TRUE(Ok(h.set_max_descendants(a, 4)));
  EXPECT_TRUE(Fails(h.set_max_depth(a, -1), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.set_max_descendants(a, -1), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.set_max_depth(a, INT_MIN), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.set_max_descendants(a, INT_MIN), Errc::out_of_range));
  EXPECT_EQ(info(h, a).max_depth, 2);
  EXPECT_EQ(info(h, a).max_descendants, 4);
  EXPECT_TRUE(Fails(h.set_max_depth(999, 1), Errc::not_found));
  EXPECT_TRUE(Fails(h.set_max_descendants(999, 1), Errc::not_found));
}

// ---------------------------------------------------------------- membership

TEST(HierarchyTest, AttachMovesAndReturnsThePreviousGroup) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, kRootGroup, "b");
  auto r = h.attach(a, 10);
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(r.value(), std::nullopt);
  r = h.attach(b, 10);
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(r.value(), a);
  EXPECT_EQ(h.group_of(10), b);
  EXPECT_TRUE(h.members(a).value().empty());
  EXPECT_EQ(h.members(b).value(), std::vector<Pid>{10});
  r = h.attach(b, 10);  // again into the same group
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(r.value(), b);
  EXPECT_EQ(info(h, b).nr_members, 1u);
  r = h.attach(kRootGroup, 10);
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(r.value(), b);
  EXPECT_EQ(h.members(kRootGroup).value(), std::vector<Pid>{10});
  EXPECT_EQ(info(h, b).nr_members, 0u);
}

TEST(HierarchyTest, MembersAscendingAndDetach) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  for (Pid pid : {30, 5, 17, 1, 2147483647}) ASSERT_TRUE(Ok(h.attach(a, pid)));
  EXPECT_EQ(h.members(a).value(), (std::vector<Pid>{1, 5, 17, 30, 2147483647}));
  EXPECT_EQ(info(h, a).nr_members, 5u);
  EXPECT_EQ(h.detach(17), a);
  EXPECT_EQ(h.detach(17), std::nullopt);
  EXPECT_EQ(h.detach(999), std::nullopt);
  EXPECT_EQ(h.group_of(17), std::nullopt);
  EXPECT_EQ(h.group_of(30), a);
  EXPECT_EQ(h.members(a).value(), (std::vector<Pid>{1, 5, 30, 2147483647}));
}

TEST(HierarchyTest, AttachErrors) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  ASSERT_TRUE(Ok(h.attach(a, 8)));
  EXPECT_TRUE(Fails(h.attach(a, 0), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.attach(a, -1), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.attach(a, INT32_MIN), Errc::out_of_range));
  EXPECT_TRUE(Fails(h.attach(999, 8), Errc::not_found));
  EXPECT_TRUE(Fails(h.attach(kNoGroup, 9), Errc::not_found));
  // A failed attach leaves the pid where it was.
  EXPECT_EQ(h.group_of(8), a);
  EXPECT_EQ(h.group_of(9), std::nullopt);
  EXPECT_EQ(h.members(a).value(), std::vector<Pid>{8});
}

}  // namespace
}  // namespace syscg
