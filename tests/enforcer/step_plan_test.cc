// What one enforce step does, from the member's record (enforcer/step_plan.h).
#include "enforcer/step_plan.h"

#include "core/io_uring_table.h"
#include "enforcer/bpf/compiler.h"

#include <gtest/gtest.h>

namespace syscg::enforcer {
namespace {

SyscallSet without(std::initializer_list<unsigned> nrs) {
  SyscallSet s = SyscallSet::all();
  for (unsigned nr : nrs) (void)s.reset(nr);
  return s;
}

SyscallSet of(std::initializer_list<unsigned> nrs) { return ~without(nrs); }

constexpr unsigned kUname = 63;

TEST(StepPlanTest, AJoiningProcessWithoutOurFilterGetsTheGuard) {
  const auto p = plan_step(Filters{}, SyscallSet::all(), /*attach=*/true, false);
  EXPECT_EQ(p.install, StepPlan::Install::guard);
  EXPECT_TRUE(p.block.empty());
  EXPECT_TRUE(p.filtered());
}

TEST(StepPlanTest, AGuardedJoinerGetsNoNewPrivsOnly) {
  Filters before;
  before.guarded = true;
  const auto p = plan_step(before, SyscallSet::all(), true, false);
  EXPECT_EQ(p.install, StepPlan::Install::no_new_privs);
  EXPECT_FALSE(p.filtered());  // no provisional record for it
}

TEST(StepPlanTest, AMemberWithNothingNewToDenyIsLeftAlone) {
  Filters before;
  before.guarded = true;
  EXPECT_EQ(plan_step(before, SyscallSet::all(), false, false).install, StepPlan::Install::nothing);
}

TEST(StepPlanTest, TheFirstRestrictionIsSupervisedLaterOnesAreNot) {
  const auto first = plan_step(Filters{}, without({kUname}), false, false);
  EXPECT_EQ(first.install, StepPlan::Install::filter);
  EXPECT_EQ(first.block, of({kUname}));
  EXPECT_TRUE(first.supervised);
  const Filters routed = settled_record(Filters{}, first, /*listener_held=*/true, "tightened");
  EXPECT_EQ(routed.routed, of({kUname}));
  EXPECT_TRUE(routed.guarded);

  const auto second = plan_step(routed, without({kUname, 39}), false, false);
  EXPECT_EQ(second.block, of({39}));  // uname is the supervisor's already
  EXPECT_FALSE(second.supervised);
  const Filters tightened = settled_record(routed, second, false, "not-stopped");
  EXPECT_EQ(tightened.tightened, of({39}));
  EXPECT_TRUE(tightened.unsupervised.empty());
}

// A later deny that changes the errno of numbers an ERRNO filter already
// denies: a filter (unsupervised) denies them again with the new errno;
// the record keeps it, so the same policy again is left alone.
TEST(StepPlanTest, AChangedErrnoOfATightenedNumberStacksAFilter) {
  SyscallSet nr63;
  (void)nr63.set(63);
  SyscallSet allowed = SyscallSet::all();
  (void)allowed.reset(63);
  DenyErrnos eacces, enosys;
  eacces.assign(nr63, EACCES);
  enosys.assign(nr63, ENOSYS);
  Filters before;
  before.routed = SyscallSet::none();
  (void)before.routed.set(110);  // a listener of ours is in
  before.hard.subtract(before.routed);
  before.guarded = true;
  const auto first = plan_step(before, allowed, false, false, eacces);
  ASSERT_EQ(first.install, StepPlan::Install::filter);
  EXPECT_EQ(first.block, nr63);
  const Filters once = settled_record(before, first, true, "", eacces);
  EXPECT_EQ(once.errnos.of(63), EACCES);
  EXPECT_EQ(plan_step(once, allowed, false, false, eacces).install, StepPlan::Install::nothing);
  const auto second = plan_step(once, allowed, false, false, enosys);
  ASSERT_EQ(second.install, StepPlan::Install::filter);
  EXPECT_FALSE(second.supervised);
  EXPECT_TRUE(second.block.empty());
  EXPECT_EQ(second.reerr, nr63);
  EXPECT_EQ(second.denied(), nr63);
  const Filters twice = settled_record(once, second, false, "", enosys);
  EXPECT_EQ(twice.errnos.of(63), ENOSYS);
  EXPECT_EQ(twice.tightened, nr63);
  EXPECT_EQ(plan_step(twice, allowed, false, false, enosys).install, StepPlan::Install::nothing);
}

TEST(StepPlanTest, ASupervisedRestrictionWithoutListenerIsLostWithItsReason) {
  const auto p = plan_step(Filters{}, without({kUname}), false, false);
  const Filters f = settled_record(Filters{}, p, false, "own-listener");
  EXPECT_EQ(f.unsupervised, of({kUname}));
  EXPECT_EQ(f.why_unsupervised, "own-listener");
}

TEST(StepPlanTest, Clone3IsNotBlockedAgainUnderTheGuard) {
  Filters before;
  before.guarded = true;
  const auto p = plan_step(before, without({bpf::kClone3Nr}), false, false);
  EXPECT_EQ(p.install, StepPlan::Install::nothing);
  EXPECT_TRUE(p.block.empty());
}

TEST(StepPlanTest, RingsAreLookedForOnlyWhereIoUringWasReachable) {
  EXPECT_TRUE(plan_step(Filters{}, SyscallSet::all(), false, /*no_io_uring=*/true).io_uring_check);
  Filters cut;
  cut.hard = ~io_uring_calls();
  cut.tightened = io_uring_calls();
  EXPECT_FALSE(plan_step(cut, SyscallSet::all(), false, true).io_uring_check);
  EXPECT_FALSE(plan_step(Filters{}, SyscallSet::all(), false, false).io_uring_check);
  // A member asked about io_uring is stopped even with nothing new to deny.
  Filters guarded;
  guarded.guarded = true;
  EXPECT_EQ(plan_step(guarded, SyscallSet::all(), false, true).install, StepPlan::Install::no_new_privs);
}

}  // namespace
}  // namespace syscg::enforcer
