// Unit tests of the group tree (core/hierarchy.h): every documented rule and
// error, plus a randomized differential test against a naive reference model.
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

using grammar::kUnlimited;

// ---------------------------------------------------------------- helpers

std::string describe(Errc code) { return std::string(errno_name(code)); }

template <class R>
testing::AssertionResult Ok(const R& r) {
  if (r.has_value()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "failed with " << describe(r.error().code) << ": "
                                     << r.error().message;
}

template <class R>
testing::AssertionResult Fails(const R& r, Errc want) {
  if (r.has_value()) return testing::AssertionFailure() << "succeeded, expected " << describe(want);
  if (r.error().code != want)
    return testing::AssertionFailure() << "failed with " << describe(r.error().code) << " ("
                                       << r.error().message << "), expected " << describe(want);
  return testing::AssertionSuccess();
}

SyscallSet range(unsigned first, unsigned last) {
  SyscallSet s;
  EXPECT_TRUE(Ok(s.set_range(first, last)));
  return s;
}

SyscallSet of(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(Ok(s.set(nr)));
  return s;
}

// Every number except restart_syscall, as `echo a > syscalls.deny` produces it.
SyscallSet deny_all() {
  auto r = grammar::parse_syscall_list("a", grammar::ListFile::deny);
  EXPECT_TRUE(Ok(r));
  return r.has_value() ? r.value() : SyscallSet::none();
}

GroupId mk(Hierarchy& h, GroupId parent, std::string_view name) {
  auto r = h.create(parent, name);
  EXPECT_TRUE(Ok(r)) << "create '" << name << "' under " << parent;
  return r.has_value() ? r.value() : kNoGroup;
}

SyscallSet allowed(const Hierarchy& h, GroupId g) {
  auto r = h.allowed(g);
  EXPECT_TRUE(Ok(r)) << "allowed(" << g << ")";
  return r.has_value() ? r.value() : SyscallSet::none();
}

GroupInfo info(const Hierarchy& h, GroupId g) {
  auto r = h.info(g);
  EXPECT_TRUE(Ok(r)) << "info(" << g << ")";
  return r.has_value() ? r.value() : GroupInfo{};
}

// Every group's allowed set, keyed by id.
std::map<GroupId, SyscallSet> all_sets(const Hierarchy& h) {
  std::map<GroupId, SyscallSet> out;
  for (const auto& g : h.snapshot()) out.emplace(g.id, g.allowed);
  return out;
}

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
  for (int i = 0; i < 12; ++i) chain.push_back(mk(h, chain.back(), "g" + std::to_string(i)));
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
    for (std::uint64_t nr :
         {std::uint64_t{512}, std::uint64_t{513}, std::uint64_t{1} << 30, ~std::uint64_t{0}}) {
      EXPECT_FALSE(h.check(g, nr)) << nr;
      EXPECT_FALSE(h.check_naive(g, nr)) << nr;
    }
    EXPECT_TRUE(h.check(g, 511));
  }
}

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

// ---------------------------------------------------------------- differential

// A deliberately naive model of the documented semantics: a map of nodes with
// parent links, one bitset per node, everything recomputed by scanning. Every
// operation returns the set of error codes the contract permits for its input
// (empty: it must succeed) and, when empty, applies the change.
class Model {
 public:
  using Bits = std::bitset<kSyscallWidth>;
  using Errors = std::set<Errc>;
  struct Node {
    GroupId parent = kNoGroup;
    std::string name;
    Bits allowed;
    int max_depth = kUnlimited;
    int max_descendants = kUnlimited;
  };

  Model() { nodes_[kRootGroup] = Node{kNoGroup, "", Bits().set(), kUnlimited, kUnlimited}; }

  bool contains(GroupId g) const { return nodes_.contains(g); }
  const std::map<GroupId, Node>& nodes() const { return nodes_; }
  std::optional<GroupId> group_of(Pid pid) const {
    auto it = member_of_.find(pid);
    return it == member_of_.end() ? std::nullopt : std::optional<GroupId>(it->second);
  }

  std::vector<GroupId> children(GroupId g) const {
    std::vector<GroupId> out;
    for (const auto& [id, n] : nodes_)
      if (n.parent == g) out.push_back(id);
    return out;
  }
  std::size_t descendants(GroupId g) const {
    std::size_t n = 0;
    for (GroupId c : children(g)) n += 1 + descendants(c);
    return n;
  }
  unsigned depth(GroupId g) const {
    unsigned d = 0;
    for (; nodes_.at(g).parent != kNoGroup; g = nodes_.at(g).parent) ++d;
    return d;
  }
  std::size_t members(GroupId g) const {
    std::size_t n = 0;
    for (const auto& entry : member_of_) n += entry.second == g;
    return n;
  }

  static bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
    for (char ch : s)
      if (ch == '/' || ch == '\n' || ch == '\0') return false;
    return s.rfind("cgroup.", 0) != 0 && s.rfind("syscalls.", 0) != 0;
  }

  // `id` is the id the implementation handed out (kNoGroup if it failed).
  Errors create(GroupId parent, const std::string& name, GroupId id) {
    Errors e;
    if (!valid_name(name)) e.insert(Errc::invalid);
    if (!contains(parent)) {
      e.insert(Errc::not_found);
      return e;
    }
    for (GroupId c : children(parent))
      if (nodes_[c].name == name) e.insert(Errc::exists);
    const unsigned new_depth = depth(parent) + 1;
    for (GroupId a = parent; a != kNoGroup; a = nodes_[a].parent) {
      const Node& n = nodes_[a];
      if (descendants(a) >= static_cast<std::size_t>(n.max_descendants) ||
          new_depth - depth(a) > static_cast<unsigned>(n.max_depth))
        e.insert(Errc::limit);
    }
    if (e.empty() && id != kNoGroup)
      nodes_[id] = Node{parent, name, nodes_[parent].allowed, kUnlimited, kUnlimited};
    return e;
  }

  Errors remove(GroupId g) {
    if (!contains(g)) return {Errc::not_found};
    if (g == kRootGroup || !children(g).empty() || members(g) != 0) return {Errc::busy};
    nodes_.erase(g);
    return {};
  }

  Errors allow(GroupId g, const Bits& s) {
    if (!contains(g)) return {Errc::not_found};
    if (g == kRootGroup) return {Errc::permission};
    if ((s & ~nodes_[nodes_[g].parent].allowed).any()) return {Errc::permission};
    nodes_[g].allowed |= s;
    return {};
  }

  Errors deny(GroupId g, const Bits& s) {
    Errors e;
    if (s.test(kRestartSyscall)) e.insert(Errc::invalid);
    if (!contains(g))
      e.insert(Errc::not_found);
    else if (g == kRootGroup)
      e.insert(Errc::permission);
    if (e.empty()) deny_subtree(g, s);
    return e;
  }

  Errors set_limit(GroupId g, int limit, bool depth_limit) {
    Errors e;
    if (limit < 0) e.insert(Errc::out_of_range);
    if (!contains(g)) e.insert(Errc::not_found);
    if (e.empty()) (depth_limit ? nodes_[g].max_depth : nodes_[g].max_descendants) = limit;
    return e;
  }

  // Also returns the previous group through `previous`.
  Errors attach(GroupId g, Pid pid, std::optional<GroupId>& previous) {
    Errors e;
    if (pid <= 0) e.insert(Errc::out_of_range);
    if (!contains(g)) e.insert(Errc::not_found);
    if (!e.empty()) return e;
    previous = group_of(pid);
    member_of_[pid] = g;
    return e;
  }

  std::optional<GroupId> detach(Pid pid) {
    auto previous = group_of(pid);
    member_of_.erase(pid);
    return previous;
  }

 private:
  void deny_subtree(GroupId g, const Bits& s) {
    nodes_[g].allowed &= ~s;
    for (GroupId c : children(g)) deny_subtree(c, s);
  }

  std::map<GroupId, Node> nodes_;
  std::map<Pid, GroupId> member_of_;
};

Model::Bits to_bits(const SyscallSet& s) {
  Model::Bits b;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) b[nr] = s.test(nr);
  return b;
}

SyscallSet to_set(const Model::Bits& b) {
  SyscallSet s;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (b.test(nr)) {
      EXPECT_TRUE(Ok(s.set(nr)));
    }
  return s;
}

std::string show(const Model::Errors& e) {
  if (e.empty()) return "success";
  std::string out;
  for (Errc c : e) {
    if (!out.empty()) out += '|';
    out += describe(c);
  }
  return out;
}

template <class R>
testing::AssertionResult Matches(const R& r, const Model::Errors& want) {
  if (r.has_value() == want.empty() && (r.has_value() || want.contains(r.error().code)))
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "implementation: "
                                     << (r.has_value()
                                             ? "success"
                                             : describe(r.error().code) + " (" + r.error().message + ")")
                                     << ", model: " << show(want);
}

class Driver {
 public:
  explicit Driver(unsigned seed) : rng_(seed) { known_.push_back(kRootGroup); }

  // One random operation on both; false once a mismatch has been reported.
  bool step() {
    const int op = pick(0, 99);
    if (op < 25) return do_create();
    if (op < 42) return do_remove();
    if (op < 62) return do_allow();
    if (op < 78) return do_deny();
    if (op < 87) return do_attach();
    if (op < 92) return do_detach();
    return do_limit();
  }

  bool compare() const {
    const auto snap = h_.snapshot();
    if (snap.size() != model_.nodes().size()) {
      ADD_FAILURE() << "snapshot has " << snap.size() << " groups, model " << model_.nodes().size();
      return false;
    }
    std::map<GroupId, const GroupInfo*> by_id;
    for (const auto& g : snap) by_id[g.id] = &g;
    for (const auto& [id, n] : model_.nodes()) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        ADD_FAILURE() << "group " << id << " missing from the snapshot";
        return false;
      }
      const GroupInfo& g = *it->second;
      EXPECT_EQ(g.parent, n.parent) << id;
      EXPECT_EQ(g.name, n.name) << id;
      EXPECT_EQ(g.depth, model_.depth(id)) << id;
      EXPECT_EQ(g.nr_children, model_.children(id).size()) << id;
      EXPECT_EQ(g.nr_descendants, model_.descendants(id)) << id;
      EXPECT_EQ(g.nr_members, model_.members(id)) << id;
      EXPECT_EQ(g.max_depth, n.max_depth) << id;
      EXPECT_EQ(g.max_descendants, n.max_descendants) << id;
      EXPECT_EQ(to_bits(g.allowed), n.allowed) << "allowed set of group " << id;
      EXPECT_TRUE(g.allowed.test(kRestartSyscall)) << id;
      if (id == kRootGroup) {
        EXPECT_TRUE(g.allowed.full());
      } else {
        EXPECT_TRUE(g.allowed.is_subset_of(by_id.at(g.parent)->allowed)) << "subset invariant, group " << id;
      }
    }
    for (int i = 0; i < 4; ++i) {
      const GroupId g = any_group();
      const unsigned nr = static_cast<unsigned>(pick(0, kSyscallWidth + 20));
      const bool want = model_.contains(g) && nr < kSyscallWidth && model_.nodes().at(g).allowed.test(nr);
      EXPECT_EQ(h_.check(g, nr), want) << "check(" << g << ", " << nr << ")";
      EXPECT_EQ(h_.check_naive(g, nr), want) << "check_naive(" << g << ", " << nr << ")";
    }
    for (Pid pid = 1; pid <= kPids; ++pid) EXPECT_EQ(h_.group_of(pid), model_.group_of(pid)) << "pid " << pid;
    return !testing::Test::HasFailure();
  }

  const std::string& last() const { return last_; }
  // How often each "operation outcome" occurred, e.g. "create EEXIST".
  const std::map<std::string, int>& stats() const { return stats_; }
  std::size_t size() const { return model_.nodes().size(); }

 private:
  static constexpr Pid kPids = 8;

  int pick(int lo, int hi) const { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) const { return pick(0, 99) < percent; }

  std::vector<GroupId> live() const {
    std::vector<GroupId> out;
    for (const auto& entry : model_.nodes()) out.push_back(entry.first);
    return out;
  }
  // Mostly live groups, sometimes removed or never-existing ids.
  GroupId any_group() const {
    if (chance(8)) return known_[static_cast<std::size_t>(pick(0, static_cast<int>(known_.size()) - 1))];
    if (chance(2)) return 9999;
    const auto ids = live();
    return ids[static_cast<std::size_t>(pick(0, static_cast<int>(ids.size()) - 1))];
  }
  GroupId any_non_root() const {
    for (int i = 0; i < 4; ++i) {
      const GroupId g = any_group();
      if (g != kRootGroup) return g;
    }
    return any_group();
  }
  // Numbers cluster in a small hot domain (with restart_syscall in it) so that
  // allows and denies interact, with the occasional number anywhere.
  unsigned any_nr() const {
    const int k = pick(0, 9);
    if (k < 6) return static_cast<unsigned>(pick(0, 31));
    if (k < 9) return static_cast<unsigned>(pick(214, 224));
    return static_cast<unsigned>(pick(0, kSyscallWidth - 1));
  }
  Model::Bits any_bits() const {
    Model::Bits b;
    switch (pick(0, 9)) {
      case 0:
      case 1:
      case 2:
        b.set(any_nr());
        break;
      case 3:
      case 4:
      case 5: {
        const unsigned lo = any_nr();
        const unsigned hi = std::min<unsigned>(lo + static_cast<unsigned>(pick(0, 8)), kSyscallWidth - 1);
        for (unsigned nr = lo; nr <= hi; ++nr) b.set(nr);
        break;
      }
      case 6:
      case 7:
      case 8:
        for (int i = pick(1, 4); i > 0; --i) b.set(any_nr());
        break;
      default:
        b = to_bits(deny_all());
        if (chance(50)) b.set(kRestartSyscall);
    }
    return b;
  }
  std::string any_name() const {
    static const std::vector<std::string> names = {"a", "b", "c", "d"};
    static const std::vector<std::string> bad = {"", "..", "x/y", "cgroup.procs"};
    if (chance(4)) return bad[static_cast<std::size_t>(pick(0, 3))];
    return names[static_cast<std::size_t>(pick(0, 3))];
  }

  // Compares one operation's outcome with the model's prediction.
  template <class R>
  bool expect(const R& r, const Model::Errors& want, std::string what) {
    last_ = std::move(what);
    const auto match = Matches(r, want);
    ++stats_[last_.substr(0, last_.find('(')) + " " + (r.has_value() ? "ok" : describe(r.error().code))];
    EXPECT_TRUE(match) << last_;
    return static_cast<bool>(match);
  }

  bool do_create() {
    // Bias towards shallow parents so the tree stays bushy and small.
    GroupId parent = any_group();
    if (model_.contains(parent) && model_.depth(parent) > 4 && chance(70)) parent = kRootGroup;
    const std::string name = any_name();
    auto r = h_.create(parent, name);
    const GroupId id = r.has_value() ? r.value() : kNoGroup;
    if (r.has_value()) {
      EXPECT_TRUE(std::find(known_.begin(), known_.end(), id) == known_.end()) << "id " << id << " reused";
      known_.push_back(id);
    }
    return expect(r, model_.create(parent, name, id),
                  "create(" + std::to_string(parent) + ", '" + name + "') -> " + std::to_string(id));
  }

  bool do_remove() {
    GroupId g = any_group();
    if (chance(50)) {  // prefer a leaf
      for (GroupId id : live())
        if (id != kRootGroup && model_.children(id).empty() && chance(30)) g = id;
    }
    return expect(h_.remove(g), model_.remove(g), "remove(" + std::to_string(g) + ")");
  }

  bool do_allow() {
    const GroupId g = any_non_root();
    Model::Bits b = any_bits();
    // Half the time, stay within the parent's set so that allows succeed.
    if (chance(50) && model_.contains(g) && g != kRootGroup)
      b &= model_.nodes().at(model_.nodes().at(g).parent).allowed;
    return expect(h_.allow(g, to_set(b)), model_.allow(g, b),
                  "allow(" + std::to_string(g) + ", " + grammar::format_syscall_list(to_set(b)) + ")");
  }

  bool do_deny() {
    const GroupId g = any_group();
    const Model::Bits b = any_bits();
    return expect(h_.deny(g, to_set(b)), model_.deny(g, b),
                  "deny(" + std::to_string(g) + ", " + grammar::format_syscall_list(to_set(b)) + ")");
  }

  bool do_attach() {
    const GroupId g = any_group();
    const Pid pid = chance(5) ? static_cast<Pid>(pick(-2, 0)) : static_cast<Pid>(pick(1, kPids));
    auto r = h_.attach(g, pid);
    std::optional<GroupId> previous;
    auto want = model_.attach(g, pid, previous);
    const std::string what = "attach(" + std::to_string(g) + ", " + std::to_string(pid) + ")";
    if (!expect(r, want, what)) return false;
    if (r.has_value() && r.value() != previous) {
      ADD_FAILURE() << what << " returned the wrong previous group";
      return false;
    }
    return true;
  }

  bool do_detach() {
    const Pid pid = static_cast<Pid>(pick(0, kPids));
    last_ = "detach(" + std::to_string(pid) + ")";
    const auto got = h_.detach(pid);
    const auto want = model_.detach(pid);
    EXPECT_EQ(got, want) << last_;
    return got == want;
  }

  bool do_limit() {
    const GroupId g = any_group();
    const bool depth = chance(50);
    const int limit = chance(5) ? -1 : chance(70) ? kUnlimited : pick(0, 4);
    auto r = depth ? h_.set_max_depth(g, limit) : h_.set_max_descendants(g, limit);
    return expect(r, model_.set_limit(g, limit, depth),
                  std::string(depth ? "set_max_depth(" : "set_max_descendants(") + std::to_string(g) + ", " +
                      std::to_string(limit) + ")");
  }

  mutable std::mt19937 rng_;
  Hierarchy h_;
  Model model_;
  std::vector<GroupId> known_;  // every id ever handed out
  std::string last_;
  std::map<std::string, int> stats_;
};

TEST(HierarchyTest, DifferentialAgainstReferenceModel) {
  constexpr int kSteps = 2500;
  for (unsigned seed : {1u, 2u, 3u, 20110517u}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Driver d(seed);
    std::size_t largest = 0;
    for (int i = 0; i < kSteps; ++i) {
      SCOPED_TRACE(testing::Message() << "step " << i);
      const bool ok = d.step();
      if (!ok || !d.compare()) {
        ADD_FAILURE() << "first divergence at step " << i << ": " << d.last();
        return;
      }
      largest = std::max(largest, d.size());
    }
    // The generator must not degenerate: every outcome the contract defines
    // for these operations occurred, and the tree grew beyond a few groups.
    std::string summary;
    for (const auto& [outcome, n] : d.stats()) summary += outcome + ": " + std::to_string(n) + ", ";
    SCOPED_TRACE(summary);
    for (const char* outcome :
         {"create ok", "create EINVAL", "create ENOENT", "create EEXIST", "create EAGAIN", "remove ok",
          "remove EBUSY", "remove ENOENT", "allow ok", "allow EPERM", "allow ENOENT", "deny ok",
          "deny EINVAL", "deny EPERM", "attach ok", "attach ERANGE", "set_max_depth ok",
          "set_max_descendants ERANGE"})
      EXPECT_TRUE(d.stats().contains(outcome)) << outcome;
    EXPECT_GE(largest, 10u);
  }
}

}  // namespace
}  // namespace syscg
