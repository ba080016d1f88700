// The member filter record and its algebra (enforcer/filters.h): pure, no
// process involved.
#include "enforcer/filters.h"

#include <gtest/gtest.h>

namespace syscg::enforcer {
namespace {

SyscallSet of(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) (void)s.set(nr);
  return s;
}

// The four sets are disjoint and hold every number.
void expect_partition(const Filters& f) {
  EXPECT_TRUE((f.hard & f.routed).empty());
  EXPECT_TRUE((f.hard & f.tightened).empty());
  EXPECT_TRUE((f.hard & f.unsupervised).empty());
  EXPECT_TRUE((f.routed & f.tightened).empty());
  EXPECT_TRUE((f.routed & f.unsupervised).empty());
  EXPECT_TRUE((f.tightened & f.unsupervised).empty());
  EXPECT_EQ(f.hard | f.routed | f.tightened | f.unsupervised, SyscallSet::all());
}

TEST(FiltersTest, ADefaultRecordRunsEverythingUnasked) {
  const Filters f;
  EXPECT_EQ(f.hard, SyscallSet::all());
  EXPECT_EQ(f.callable(), SyscallSet::all());
  EXPECT_FALSE(f.guarded);
  expect_partition(f);
}

TEST(FiltersTest, AfterARoutedDenialTheNumbersAreAskedAndStillCallable) {
  const Filters f = after(Filters{}, of({1, 2}), Denial::routed);
  EXPECT_EQ(f.routed, of({1, 2}));
  EXPECT_FALSE(f.hard.test(1));
  EXPECT_TRUE(f.callable().test(1));
  expect_partition(f);
  EXPECT_TRUE(losses(f, SyscallSet::all()).empty());
}

TEST(FiltersTest, ATighteningIsLostAndReportedAsTightened) {
  const Filters routed = after(Filters{}, of({1}), Denial::routed);
  const Filters f = after(routed, of({3}), Denial::tightened, "ignored");
  EXPECT_EQ(f.tightened, of({3}));
  EXPECT_EQ(f.routed, of({1}));
  EXPECT_TRUE(f.why_unsupervised.empty());
  expect_partition(f);
  const auto lost = losses(f, of({1, 3, 5}));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].numbers, of({3}));
  EXPECT_EQ(lost[0].reason, "tightened");
}

TEST(FiltersTest, AnUnsupervisedDenialKeepsItsReason) {
  const Filters f = after(Filters{}, of({7}), Denial::unsupervised, "own-listener");
  EXPECT_EQ(f.unsupervised, of({7}));
  expect_partition(f);
  const auto lost = losses(f, of({7}));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].reason, "own-listener");
  EXPECT_TRUE(losses(f, of({8})).empty());  // only what the group allows is a loss
}

TEST(FiltersTest, AnEmptyBlockChangesNothing) {
  const Filters before = after(Filters{}, of({1}), Denial::routed);
  EXPECT_EQ(after(before, SyscallSet::none(), Denial::unsupervised, "x"), before);
}

TEST(FiltersTest, ACopyNamesItsSource) {
  Filters f = after(Filters{}, of({1}), Denial::routed);
  f.step = 9;
  const Filters c = copy_of(f, 42);
  EXPECT_EQ(c.from, 42);
  EXPECT_EQ(c.step, 9u);
  EXPECT_EQ(c.routed, f.routed);
}

TEST(FilterBookTest, AChildInheritsItsParentsRecord) {
  FilterBook book;
  const Filters parent = after(Filters{}, of({1}), Denial::routed);
  book.set(10, parent);
  EXPECT_TRUE(book.inherit(10, 11));
  ASSERT_NE(book.find(11), nullptr);
  EXPECT_EQ(book.find(11)->routed, of({1}));
  EXPECT_EQ(book.find(11)->from, 10);
  EXPECT_FALSE(book.inherit(99, 12));  // an unknown parent: no record
  EXPECT_FALSE(book.contains(12));
}

TEST(FilterBookTest, AbandoningAStepPutsBackTheTargetAndItsCopies) {
  FilterBook book;
  const Filters before = after(Filters{}, of({1}), Denial::routed);
  book.set(10, before);
  const auto step = book.begin(10, before);
  EXPECT_NE(step, 0u);
  EXPECT_EQ(book.find(10)->step, step);
  ASSERT_TRUE(book.inherit(10, 11));  // forked while the filter was in flight
  ASSERT_TRUE(book.inherit(11, 12));
  book.abandon(10, step, before);
  EXPECT_EQ(*book.find(10), before);
  EXPECT_EQ(book.find(11)->routed, before.routed);
  EXPECT_EQ(book.find(11)->from, 10);
  EXPECT_EQ(book.find(12)->from, 11);
  EXPECT_EQ(book.find(12)->step, 0u);
}

TEST(FilterBookTest, SettlingRaisesCopiesOnlyAlongChainsThatHaveTheFilter) {
  FilterBook book;
  const Filters before;
  book.set(10, before);
  const auto step = book.begin(10, before);
  ASSERT_TRUE(book.inherit(10, 11));  // forked before the filter (the injector says so)
  ASSERT_TRUE(book.inherit(10, 12));  // forked after it
  ASSERT_TRUE(book.inherit(12, 13));  // its child
  ASSERT_TRUE(book.inherit(11, 14));  // a child of one that lacks it
  const Filters settled = after(before, of({5}), Denial::routed);
  const auto out = book.settle(10, step, before, settled, {11, 20}, /*attach=*/false);
  EXPECT_TRUE(out.exclude.empty());
  EXPECT_TRUE(out.not_members.empty());
  EXPECT_EQ(book.find(10)->routed, of({5}));
  EXPECT_EQ(book.find(10)->step, step);
  EXPECT_EQ(book.find(12)->routed, of({5}));
  EXPECT_EQ(book.find(13)->routed, of({5}));
  EXPECT_TRUE(book.find(11)->routed.empty());
  EXPECT_TRUE(book.find(14)->routed.empty());
  // 20's fork event is still to come: it takes the record from before.
  EXPECT_TRUE(book.pending_unfiltered(20));
  EXPECT_TRUE(book.inherit(10, 20));
  EXPECT_TRUE(book.find(20)->routed.empty());
  EXPECT_FALSE(book.pending_unfiltered(20));
}

TEST(FilterBookTest, ABrokenChainKeepsTheRecordFromBefore) {
  FilterBook book;
  const Filters before;
  book.set(10, before);
  const auto step = book.begin(10, before);
  ASSERT_TRUE(book.inherit(10, 12));
  ASSERT_TRUE(book.inherit(12, 13));
  book.erase(12);  // ended: the chain from 10 to 13 is broken
  const Filters settled = after(before, of({5}), Denial::routed);
  (void)book.settle(10, step, before, settled, {}, false);
  EXPECT_TRUE(book.find(13)->routed.empty());
}

TEST(FilterBookTest, AProcessJoiningLeavesItsEarlierChildrenOut) {
  FilterBook book;
  const Filters before;
  const auto step = book.begin(10, before);
  ASSERT_TRUE(book.inherit(10, 11));  // forked before the filter, event seen meanwhile
  ASSERT_TRUE(book.inherit(11, 15));  // and its child
  ASSERT_TRUE(book.inherit(10, 12));  // forked after the filter: a member
  const Filters settled = after(before, of({5}), Denial::routed);
  const auto out = book.settle(10, step, before, settled, {11, 20}, /*attach=*/true);
  EXPECT_EQ(out.exclude, std::vector<Pid>{20});  // no record yet: excluded
  EXPECT_FALSE(book.pending_unfiltered(20));
  EXPECT_EQ(out.not_members, (std::vector<Pid>{11, 15}));
  EXPECT_EQ(book.find(12)->routed, of({5}));
}

TEST(FilterBookTest, EraseForgetsAPendingChildToo) {
  FilterBook book;
  const Filters before;
  book.set(10, before);
  const auto step = book.begin(10, before);
  (void)book.settle(10, step, before, before, {20}, false);
  ASSERT_TRUE(book.pending_unfiltered(20));
  book.erase(20);
  EXPECT_FALSE(book.pending_unfiltered(20));
  EXPECT_EQ(book.record_or_default(20), Filters{});
}

}  // namespace
}  // namespace syscg::enforcer
