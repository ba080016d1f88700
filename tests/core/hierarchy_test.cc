// Unit tests of the group tree (core/hierarchy.h), the root and creating
// groups: every documented rule and error.
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

// ---------------------------------------------------------------- root

TEST(HierarchyTest, RootAllowsEverything) {
  Hierarchy h;
  EXPECT_TRUE(allowed(h, kRootGroup).full());
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    EXPECT_TRUE(h.check(kRootGroup, nr)) << nr;
    EXPECT_TRUE(h.check_naive(kRootGroup, nr)) << nr;
  }
  const GroupInfo root = info(h, kRootGroup);
  EXPECT_EQ(root.id, kRootGroup);
  EXPECT_EQ(root.parent, kNoGroup);
  EXPECT_EQ(root.name, "");
  EXPECT_EQ(root.depth, 0u);
  EXPECT_EQ(root.nr_descendants, 0u);
  EXPECT_EQ(root.nr_children, 0u);
  EXPECT_EQ(root.nr_members, 0u);
}

TEST(HierarchyTest, RootPolicyCannotBeChanged) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  EXPECT_TRUE(Fails(h.deny(kRootGroup, of({1, 2})), Errc::permission));
  EXPECT_TRUE(Fails(h.deny(kRootGroup, deny_all()), Errc::permission));
  EXPECT_TRUE(Fails(h.allow(kRootGroup, of({1})), Errc::permission));
  EXPECT_TRUE(Fails(h.allow(kRootGroup, SyscallSet::none()), Errc::permission));
  EXPECT_TRUE(allowed(h, kRootGroup).full());
  EXPECT_TRUE(allowed(h, a).full());
}

TEST(HierarchyTest, RootCannotBeRemoved) {
  Hierarchy h;
  EXPECT_TRUE(Fails(h.remove(kRootGroup), Errc::busy));
  EXPECT_TRUE(Ok(h.info(kRootGroup)));
  EXPECT_TRUE(Ok(h.create(kRootGroup, "a")));
}

// ---------------------------------------------------------------- create

TEST(HierarchyTest, ChildCopiesParentSet) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  EXPECT_TRUE(allowed(h, a).full());
  ASSERT_TRUE(Ok(h.deny(a, range(10, 20))));
  const GroupId b = mk(h, a, "b");
  EXPECT_EQ(allowed(h, b), allowed(h, a));
  EXPECT_FALSE(allowed(h, b).test(15));
  ASSERT_TRUE(Ok(h.deny(b, of({3}))));
  const GroupId c = mk(h, b, "c");
  EXPECT_EQ(allowed(h, c), allowed(h, b));
  EXPECT_FALSE(allowed(h, c).test(3));
  EXPECT_TRUE(allowed(h, mk(h, kRootGroup, "x")).full());
}

TEST(HierarchyTest, InvalidNamesAreRejected) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const std::vector<std::string> bad = {"",
                                        ".",
                                        "..",
                                        "a/b",
                                        "a\nb",
                                        std::string("a\0b", 3),
                                        "/",
                                        "a/",
                                        std::string(256, 'x'),
                                        "cgroup.procs",
                                        "syscalls.deny",
                                        "cgroup.",
                                        "syscalls.allow"};
  for (const auto& name : bad) {
    EXPECT_TRUE(Fails(h.create(kRootGroup, name), Errc::invalid)) << "name '" << name << "'";
    EXPECT_TRUE(Fails(h.create(a, name), Errc::invalid)) << "name '" << name << "'";
  }
  EXPECT_EQ(info(h, kRootGroup).nr_descendants, 1u);
  // The boundary and look-alikes are fine.
  EXPECT_TRUE(Ok(h.create(a, std::string(255, 'x'))));
  EXPECT_TRUE(Ok(h.create(a, "cgroup")));
  EXPECT_TRUE(Ok(h.create(a, "syscalls")));
  EXPECT_TRUE(Ok(h.create(a, "...")));
  EXPECT_TRUE(Ok(h.create(a, "x.cgroup.procs")));
}

TEST(HierarchyTest, DuplicateNameExists) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId b = mk(h, kRootGroup, "b");
  EXPECT_TRUE(Fails(h.create(kRootGroup, "a"), Errc::exists));
  mk(h, a, "c");
  EXPECT_TRUE(Fails(h.create(a, "c"), Errc::exists));
  EXPECT_TRUE(Ok(h.create(b, "c")));  // same name, other parent
  EXPECT_TRUE(Ok(h.create(a, "a")));  // same name as the parent
  EXPECT_EQ(info(h, kRootGroup).nr_descendants, 5u);
}

TEST(HierarchyTest, UnknownParentIsNotFound) {
  Hierarchy h;
  EXPECT_TRUE(Fails(h.create(kNoGroup, "a"), Errc::not_found));
  EXPECT_TRUE(Fails(h.create(12345, "a"), Errc::not_found));
  EXPECT_TRUE(Fails(h.lookup(12345, "a"), Errc::not_found));
  EXPECT_TRUE(Fails(h.lookup(kRootGroup, "a"), Errc::not_found));
}

TEST(HierarchyTest, IdsAreUniqueAndNeverReused) {
  Hierarchy h;
  std::set<GroupId> seen{kRootGroup};
  const auto fresh = [&](GroupId id) {
    EXPECT_NE(id, kNoGroup);
    EXPECT_TRUE(seen.insert(id).second) << "id " << id << " reused";
  };
  const GroupId a = mk(h, kRootGroup, "a");
  fresh(a);
  for (int round = 0; round < 5; ++round) {
    const GroupId b = mk(h, a, "b");
    fresh(b);
    const GroupId c = mk(h, kRootGroup, "c");
    fresh(c);
    ASSERT_TRUE(Ok(h.remove(b)));
    ASSERT_TRUE(Ok(h.remove(c)));
  }
}

TEST(HierarchyTest, LookupChildrenPathInfo) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  const GroupId zeta = mk(h, a, "zeta");
  const GroupId b = mk(h, a, "b");
  const GroupId mid = mk(h, a, "mid");
  const GroupId c = mk(h, b, "c");
  ASSERT_TRUE(Ok(h.attach(b, 7)));
  ASSERT_TRUE(Ok(h.attach(b, 3)));

  EXPECT_EQ(h.lookup(kRootGroup, "a").value(), a);
  EXPECT_EQ(h.lookup(a, "b").value(), b);
  EXPECT_EQ(h.lookup(b, "c").value(), c);
  EXPECT_TRUE(Fails(h.lookup(a, "c"), Errc::not_found));

  auto kids = h.children(a);
  ASSERT_TRUE(Ok(kids));
  ASSERT_EQ(kids.value().size(), 3u);
  EXPECT_EQ(kids.value()[0].name, "b");
  EXPECT_EQ(kids.value()[0].id, b);
  EXPECT_EQ(kids.value()[1].name, "mid");
  EXPECT_EQ(kids.value()[1].id, mid);
  EXPECT_EQ(kids.value()[2].name, "zeta");
  EXPECT_EQ(kids.value()[2].id, zeta);
  EXPECT_TRUE(h.children(c).value().empty());

  EXPECT_EQ(h.path(kRootGroup).value(), "/");
  EXPECT_EQ(h.path(a).value(), "/a");
  EXPECT_EQ(h.path(c).value(), "/a/b/c");

  const GroupInfo ia = info(h, a);
  EXPECT_EQ(ia.id, a);
  EXPECT_EQ(ia.parent, kRootGroup);
  EXPECT_EQ(ia.name, "a");
  EXPECT_EQ(ia.depth, 1u);
  EXPECT_EQ(ia.nr_children, 3u);
  EXPECT_EQ(ia.nr_descendants, 4u);
  EXPECT_EQ(ia.nr_members, 0u);
  EXPECT_EQ(ia.max_depth, kUnlimited);
  EXPECT_EQ(ia.max_descendants, kUnlimited);
  const GroupInfo ib = info(h, b);
  EXPECT_EQ(ib.parent, a);
  EXPECT_EQ(ib.depth, 2u);
  EXPECT_EQ(ib.nr_children, 1u);
  EXPECT_EQ(ib.nr_descendants, 1u);
  EXPECT_EQ(ib.nr_members, 2u);
  const GroupInfo ic = info(h, c);
  EXPECT_EQ(ic.depth, 3u);
  EXPECT_EQ(ic.nr_descendants, 0u);
  EXPECT_EQ(info(h, kRootGroup).nr_descendants, 5u);
  EXPECT_EQ(info(h, kRootGroup).nr_children, 1u);
}

TEST(HierarchyTest, SnapshotListsParentsBeforeChildren) {
  Hierarchy h;
  const GroupId a = mk(h, kRootGroup, "a");
  mk(h, mk(h, a, "b"), "c");
  mk(h, a, "d");
  mk(h, kRootGroup, "e");
  const auto snap = h.snapshot();
  ASSERT_EQ(snap.size(), 6u);
  EXPECT_EQ(snap.front().id, kRootGroup);
  std::set<GroupId> seen;
  for (const auto& g : snap) {
    if (g.id != kRootGroup) {
      EXPECT_TRUE(seen.contains(g.parent)) << g.name;
    }
    EXPECT_TRUE(seen.insert(g.id).second);
  }
}

}  // namespace
}  // namespace syscg
