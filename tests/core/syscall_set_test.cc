#include "core/syscall_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <type_traits>
#include <vector>

namespace syscg {
namespace {

static_assert(sizeof(SyscallSet) == 64);
static_assert(std::is_trivially_copyable_v<SyscallSet>);
static_assert(std::forward_iterator<SyscallSet::const_iterator>);

constexpr unsigned kLast = kSyscallWidth - 1;

SyscallSet make(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr).has_value()) << nr;
  return s;
}

std::vector<unsigned> brute_force(const SyscallSet& s) {
  std::vector<unsigned> v;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (s.test(nr)) v.push_back(nr);
  return v;
}

std::vector<unsigned> iterated(const SyscallSet& s) { return {s.begin(), s.end()}; }

template <class R>
void expect_errc(const R& r, Errc code) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, code) << errno_name(r.error().code) << ": " << r.error().message;
}

TEST(SyscallSet, DefaultIsEmpty) {
  const SyscallSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.full());
  EXPECT_EQ(s.count(), 0U);
  EXPECT_EQ(s, SyscallSet::none());
  EXPECT_EQ(s.begin(), s.end());
}

TEST(SyscallSet, AllIsFull) {
  const auto s = SyscallSet::all();
  EXPECT_TRUE(s.full());
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.count(), kSyscallWidth);
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) EXPECT_TRUE(s.test(nr)) << nr;
}

TEST(SyscallSet, SetResetTestSingleNumbers) {
  SyscallSet s;
  for (unsigned nr : {0U, 1U, 63U, 64U, 219U, kLast}) {
    SCOPED_TRACE(nr);
    EXPECT_FALSE(s.test(nr));
    ASSERT_TRUE(s.set(nr).has_value());
    EXPECT_TRUE(s.test(nr));
    ASSERT_TRUE(s.set(nr).has_value());  // idempotent
    EXPECT_EQ(s.count(), 1U);
    EXPECT_EQ(brute_force(s), std::vector<unsigned>{nr});
    ASSERT_TRUE(s.reset(nr).has_value());
    EXPECT_FALSE(s.test(nr));
    ASSERT_TRUE(s.reset(nr).has_value());  // idempotent
    EXPECT_TRUE(s.empty());
  }
}

TEST(SyscallSet, OutOfRangeNumbersAreRejectedAndChangeNothing) {
  const auto before = make({0, 64, kLast});
  for (std::uint64_t nr : {std::uint64_t{kSyscallWidth}, std::uint64_t{kSyscallWidth} + 1,
                           std::uint64_t{0x40000000} + 59, ~std::uint64_t{0}}) {
    SCOPED_TRACE(nr);
    auto s = before;
    EXPECT_FALSE(s.test(nr));
    EXPECT_FALSE(SyscallSet::all().test(nr));
    expect_errc(s.set(nr), Errc::out_of_range);
    expect_errc(s.reset(nr), Errc::out_of_range);
    expect_errc(s.set_range(0, nr), Errc::out_of_range);
    expect_errc(s.set_range(500, nr), Errc::out_of_range);
    expect_errc(s.reset_range(0, nr), Errc::out_of_range);
    expect_errc(s.set_range(nr, nr), Errc::out_of_range);
    EXPECT_EQ(s, before);
  }
  EXPECT_FALSE(SyscallSet::in_range(kSyscallWidth));
  EXPECT_TRUE(SyscallSet::in_range(kLast));
}

TEST(SyscallSet, SetRangeIsInclusive) {
  const auto check = [](std::uint64_t first, std::uint64_t last) {
    SCOPED_TRACE(testing::Message() << first << "-" << last);
    SyscallSet s;
    ASSERT_TRUE(s.set_range(first, last).has_value());
    std::vector<unsigned> want;
    for (auto nr = first; nr <= last; ++nr) want.push_back(static_cast<unsigned>(nr));
    EXPECT_EQ(brute_force(s), want);
    EXPECT_EQ(s.count(), want.size());
  };
  check(0, 0);
  check(0, 1);
  check(62, 65);
  check(63, 64);
  check(100, 300);
  check(kLast, kLast);
  check(448, kLast);
  check(0, kLast);
  SyscallSet s;
  ASSERT_TRUE(s.set_range(0, kLast).has_value());
  EXPECT_TRUE(s.full());
}

TEST(SyscallSet, ResetRangeIsInclusive) {
  const auto check = [](std::uint64_t first, std::uint64_t last) {
    SCOPED_TRACE(testing::Message() << first << "-" << last);
    auto s = SyscallSet::all();
    ASSERT_TRUE(s.reset_range(first, last).has_value());
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr) EXPECT_EQ(s.test(nr), nr < first || nr > last) << nr;
  };
  check(0, 0);
  check(63, 64);
  check(kLast, kLast);
  check(10, 500);
  auto s = SyscallSet::all();
  ASSERT_TRUE(s.reset_range(0, kLast).has_value());
  EXPECT_TRUE(s.empty());
}

TEST(SyscallSet, BackwardRangeIsInvalidAndChangesNothing) {
  const auto before = make({3, 5});
  auto s = before;
  expect_errc(s.set_range(5, 3), Errc::invalid);
  expect_errc(s.reset_range(5, 3), Errc::invalid);
  expect_errc(s.set_range(kLast, 0), Errc::invalid);
  expect_errc(s.set_range(600, 500), Errc::invalid);
  EXPECT_EQ(s, before);
}

TEST(SyscallSet, Complement) {
  EXPECT_EQ(~SyscallSet::none(), SyscallSet::all());
  EXPECT_EQ(~SyscallSet::all(), SyscallSet::none());
  const auto s = make({0, 63, 64, kLast});
  const auto c = ~s;
  EXPECT_EQ(c.count(), kSyscallWidth - 4);
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) EXPECT_NE(c.test(nr), s.test(nr)) << nr;
  EXPECT_EQ(~c, s);
  EXPECT_FALSE(c.test(kSyscallWidth));  // no phantom bits beyond the width
}

TEST(SyscallSet, IntersectionUnionSubtract) {
  const auto a = make({1, 2, 63, 64, 300});
  const auto b = make({2, 64, 65, kLast});
  EXPECT_EQ(a & b, make({2, 64}));
  EXPECT_EQ(a | b, make({1, 2, 63, 64, 65, 300, kLast}));
  auto d = a;
  EXPECT_EQ(d.subtract(b), make({1, 63, 300}));
  EXPECT_EQ(d, make({1, 63, 300}));
  auto x = a;
  x &= b;
  EXPECT_EQ(x, a & b);
  x = a;
  x |= b;
  EXPECT_EQ(x, a | b);
  EXPECT_EQ(a & SyscallSet::none(), SyscallSet::none());
  EXPECT_EQ(a & SyscallSet::all(), a);
  EXPECT_EQ(a | SyscallSet::all(), SyscallSet::all());
  EXPECT_EQ(SyscallSet(a).subtract(a), SyscallSet::none());
  EXPECT_EQ(SyscallSet::all().subtract(a), ~a);
}

TEST(SyscallSet, IsSubsetOf) {
  const auto a = make({1, 64});
  const auto b = make({1, 2, 64, kLast});
  EXPECT_TRUE(a.is_subset_of(b));
  EXPECT_FALSE(b.is_subset_of(a));
  EXPECT_TRUE(a.is_subset_of(a));
  EXPECT_TRUE(SyscallSet::none().is_subset_of(a));
  EXPECT_TRUE(b.is_subset_of(SyscallSet::all()));
  EXPECT_FALSE(SyscallSet::all().is_subset_of(b));
  EXPECT_FALSE(make({kLast}).is_subset_of(make({0})));
}

TEST(SyscallSet, Equality) {
  EXPECT_EQ(make({0, 511}), make({511, 0}));
  EXPECT_NE(make({0}), make({1}));
  EXPECT_NE(make({63}), make({64}));
  EXPECT_NE(SyscallSet::all(), ~make({kLast}));
  auto s = make({5});
  ASSERT_TRUE(s.reset(5).has_value());
  EXPECT_EQ(s, SyscallSet::none());
}

TEST(SyscallSet, IterationIsAscendingAndMatchesBruteForce) {
  auto ranged = [](std::uint64_t first, std::uint64_t last) {
    SyscallSet s;
    EXPECT_TRUE(s.set_range(first, last).has_value());
    return s;
  };
  const SyscallSet sets[] = {
      SyscallSet::none(),  SyscallSet::all(),  make({0}),      make({kLast}),
      make({63}),          make({64}),         make({63, 64}), make({0, 63, 64, 127, 128, kLast}),
      make({5, 219, 448}), ranged(60, 70),     ranged(0, 200), ~make({0, 64, kLast}),
      ~make({219}),        ranged(256, kLast),
  };
  for (const auto& s : sets) {
    const auto want = brute_force(s);
    SCOPED_TRACE(testing::PrintToString(want));
    EXPECT_EQ(iterated(s), want);
    EXPECT_EQ(static_cast<std::size_t>(std::distance(s.begin(), s.end())), s.count());
  }
}

TEST(SyscallSet, IteratorIncrementForms) {
  const auto s = make({63, 64, kLast});
  auto it = s.begin();
  EXPECT_EQ(*it, 63U);
  EXPECT_EQ(*it++, 63U);
  EXPECT_EQ(*it, 64U);
  EXPECT_EQ(*++it, kLast);
  EXPECT_EQ(++it, s.end());
}

}  // namespace
}  // namespace syscg
