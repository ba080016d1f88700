// Unit tests of the group tree (core/hierarchy.h), policies: deny, allow and
// the flattened check.
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

// ---------------------------------------------------------------- deny

TEST(HierarchyTest, DenyClearsGroupAndEveryDescendant) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  const GroupId d = mk(h, c, "d");
  const GroupId e = mk(h, d, "e");
  const GroupId c2 = mk(h, b, "c2");
  const GroupId sibling = mk(h, a, "s");
  const GroupId other = mk(h, kRootGroup, "x");
  const SyscallSet denied = of({0, 5, 63, 64, 300, 511});
  ASSERT_TRUE(Ok(h.deny(b, denied)));
  for (GroupId g : {b, c, d, e, c2}) {
    EXPECT_EQ(allowed(h, g), ~denied) << "group " << g;
    for (unsigned nr : denied) {
      EXPECT_FALSE(h.check(g, nr)) << g << " " << nr;
      EXPECT_FALSE(h.check_naive(g, nr)) << g << " " << nr;
    }
  }
  for (GroupId g : {kRootGroup, a, sibling, other}) EXPECT_TRUE(allowed(h, g).full()) << "group " << g;

  // A second deny lower down accumulates; the upper part is untouched.
  ASSERT_TRUE(Ok(h.deny(d, of({1}))));
  EXPECT_TRUE(allowed(h, c).test(1));
  EXPECT_FALSE(allowed(h, d).test(1));
  EXPECT_FALSE(allowed(h, e).test(1));
  EXPECT_FALSE(allowed(h, e).test(5));
}

// Errnos: a deny's errno reaches every descendant with the deny, a later
// deny changes it, an allow clears it, a new group copies its parent's.
TEST(HierarchyTest, DenyErrnosFollowTheDeny) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  SyscallSet s59;
  (void)s59.set(59);
  DenyErrnos nosys;
  nosys.assign(s59, ENOSYS);
  ASSERT_TRUE(h.deny(a, s59, nosys));
  EXPECT_EQ(h.errnos(a).value().of(59), ENOSYS);
  EXPECT_EQ(h.errnos(b).value().of(59), ENOSYS);
  EXPECT_EQ(h.errnos(kRootGroup).value().of(59), EPERM);
  DenyErrnos rofs;
  rofs.assign(s59, EROFS);
  ASSERT_TRUE(h.deny(b, s59, rofs));
  EXPECT_EQ(h.errnos(b).value().of(59), EROFS);
  EXPECT_EQ(h.errnos(a).value().of(59), ENOSYS);
  const GroupId c = mk(h, b, "c");
  EXPECT_EQ(h.errnos(c).value().of(59), EROFS);
  ASSERT_TRUE(h.deny(a, s59));  // EPERM again, everywhere below
  for (GroupId g : {a, b, c}) EXPECT_TRUE(h.errnos(g).value().empty()) << g;
  ASSERT_TRUE(h.deny(a, s59, nosys));
  ASSERT_TRUE(h.allow(a, s59));
  EXPECT_TRUE(h.errnos(a).value().empty());
  EXPECT_EQ(h.errnos(b).value().of(59), ENOSYS) << "an allow does not propagate";
  const auto members = h.subtree_members(a);
  ASSERT_TRUE(members);
}

TEST(HierarchyTest, DenyOfRestartSyscallIsInvalidAndChangesNothing) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  mk(h, b, "c");
  ASSERT_TRUE(Ok(h.deny(b, of({4}))));
  const auto before = all_sets(h);
  EXPECT_TRUE(Fails(h.deny(a, of({kRestartSyscall})), Errc::invalid));
  EXPECT_TRUE(Fails(h.deny(a, of({1, 2, kRestartSyscall})), Errc::invalid));
  EXPECT_TRUE(Fails(h.deny(b, SyscallSet::all()), Errc::invalid));
  EXPECT_TRUE(Fails(h.deny(b, range(200, 230)), Errc::invalid));
  EXPECT_EQ(all_sets(h), before);
}

TEST(HierarchyTest, RestartSyscallSurvivesDenyAll) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  const SyscallSet everything_else = deny_all();
  ASSERT_FALSE(everything_else.test(kRestartSyscall));
  ASSERT_EQ(everything_else.count(), kSyscallWidth - 1);
  ASSERT_TRUE(Ok(h.deny(a, everything_else)));
  for (GroupId g : {a, b, c}) {
    EXPECT_EQ(allowed(h, g), of({kRestartSyscall})) << g;
    EXPECT_TRUE(h.check(g, kRestartSyscall));
    EXPECT_TRUE(h.check_naive(g, kRestartSyscall));
  }
  // A group created now inherits exactly that.
  EXPECT_EQ(allowed(h, mk(h, c, "d")), of({kRestartSyscall}));
}

TEST(HierarchyTest, DenyOnUnknownGroupIsNotFound) {
  Hierarchy h;
  EXPECT_TRUE(Fails(h.deny(999, of({1})), Errc::not_found));
  EXPECT_TRUE(Fails(h.deny(kNoGroup, of({1})), Errc::not_found));
}

// ---------------------------------------------------------------- allow

TEST(HierarchyTest, AllowSetsBitsInTheGroupOnly) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  ASSERT_TRUE(Ok(h.deny(a, range(10, 20))));
  ASSERT_TRUE(Ok(h.allow(a, range(10, 20))));
  EXPECT_TRUE(allowed(h, a).full());
  EXPECT_EQ(allowed(h, b), ~range(10, 20));
  EXPECT_EQ(allowed(h, c), ~range(10, 20));
  ASSERT_TRUE(Ok(h.allow(b, of({12}))));
  EXPECT_TRUE(allowed(h, b).test(12));
  EXPECT_FALSE(allowed(h, c).test(12));
  // Allowing what is already allowed, or nothing, succeeds and changes nothing.
  const auto before = all_sets(h);
  EXPECT_TRUE(Ok(h.allow(c, of({1, 2}))));
  EXPECT_TRUE(Ok(h.allow(c, SyscallSet::none())));
  EXPECT_EQ(all_sets(h), before);
}

TEST(HierarchyTest, AllowBeyondParentIsPermissionAndAllOrNothing) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  ASSERT_TRUE(Ok(h.deny(a, range(10, 20))));
  ASSERT_TRUE(Ok(h.deny(b, range(30, 40))));
  const auto before = all_sets(h);
  // 35 is allowed by a (b's parent), 15 is not: none of it may be set.
  EXPECT_TRUE(Fails(h.allow(b, of({15, 35})), Errc::permission));
  EXPECT_TRUE(Fails(h.allow(b, range(15, 35)), Errc::permission));
  // The grandparent allowing it does not help: only the parent counts.
  EXPECT_TRUE(Fails(h.allow(c, of({35})), Errc::permission));
  EXPECT_TRUE(Fails(h.allow(c, SyscallSet::all()), Errc::permission));
  EXPECT_EQ(all_sets(h), before);
  EXPECT_TRUE(Ok(h.allow(b, of({35}))));
  EXPECT_TRUE(allowed(h, b).test(35));
  EXPECT_FALSE(allowed(h, c).test(35));
  EXPECT_TRUE(Ok(h.allow(c, of({35}))));
  EXPECT_TRUE(allowed(h, c).test(35));
}

TEST(HierarchyTest, AllowAfterDenyRestoresOnlyTheGroup) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, a, "b");
  const GroupId c = mk(h, b, "c");
  ASSERT_TRUE(Ok(h.deny(a, deny_all())));
  ASSERT_TRUE(Ok(h.allow(a, of({0, 1, 60}))));
  EXPECT_EQ(allowed(h, a), of({0, 1, 60, kRestartSyscall}));
  EXPECT_EQ(allowed(h, b), of({kRestartSyscall}));
  EXPECT_EQ(allowed(h, c), of({kRestartSyscall}));
  EXPECT_FALSE(h.check(b, 60));
  EXPECT_FALSE(h.check_naive(b, 60));
}

TEST(HierarchyTest, AllowOnUnknownGroupIsNotFound) {
  Hierarchy h;
  EXPECT_TRUE(Fails(h.allow(999, of({1})), Errc::not_found));
}

// ---------------------------------------------------------------- check

TEST(HierarchyTest, FlattenedCheckEqualsNaiveCheck) {
  Hierarchy h;
  std::mt19937 rng(7);
  std::vector<GroupId> chain{kRootGroup};
  for (int i = 0; i < 12; ++i) chain.push_back(mk(h, chain.back(), cat("g", std::to_string(i))));
  // Denies and re-allows at every level, top to bottom and back.
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 1; i < chain.size(); ++i) {
      const unsigned lo = std::uniform_int_distribution<unsigned>(0, 500)(rng);
      SyscallSet s = range(lo, lo + 10);
      ASSERT_TRUE(s.reset(kRestartSyscall));
      ASSERT_TRUE(Ok(h.deny(chain[i], s)));
    }
    for (std::size_t i = 1; i < chain.size(); i += 2) {
      ASSERT_TRUE(Ok(h.allow(chain[i], allowed(h, chain[i - 1]))));
    }
  }
  for (GroupId g : chain) {
    const SyscallSet s = allowed(h, g);
    for (std::uint64_t nr = 0; nr <= 600; ++nr) {
      EXPECT_EQ(h.check(g, nr), h.check_naive(g, nr)) << "group " << g << " nr " << nr;
      EXPECT_EQ(h.check(g, nr), s.test(nr)) << "group " << g << " nr " << nr;
    }
  }
}

TEST(HierarchyTest, CheckOfUnknownGroupOrOutOfRangeIsFalse) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  for (GroupId g : {kNoGroup, GroupId{999}}) {
    EXPECT_FALSE(h.check(g, 1));
    EXPECT_FALSE(h.check_naive(g, 1));
  }
  for (GroupId g : {kRootGroup, a}) {
    for (std::uint64_t nr : {std::uint64_t{512}, std::uint64_t{513}, std::uint64_t{1} << 30, ~std::uint64_t{0}}) {
      EXPECT_FALSE(h.check(g, nr)) << nr;
      EXPECT_FALSE(h.check_naive(g, nr)) << nr;
    }
    EXPECT_TRUE(h.check(g, 511));
  }
}

}  // namespace
}  // namespace syscg
