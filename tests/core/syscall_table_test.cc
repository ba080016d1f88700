#include "core/syscall_table.h"

#include "core/syscall_set.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace syscg {
namespace {

namespace table = syscall_table;

TEST(SyscallTable, KnownNamesAndNumbersMapBothWays) {
  struct Pair {
    std::string_view name;
    unsigned nr;
  };
  for (const auto& [n, nr] :
       {Pair{"read", 0}, Pair{"close", 3}, Pair{"execve", 59}, Pair{"restart_syscall", kRestartSyscall}}) {
    SCOPED_TRACE(n);
    EXPECT_EQ(table::number(n), std::optional<unsigned>(nr));
    EXPECT_EQ(table::name(nr), std::optional<std::string_view>(n));
  }
  EXPECT_EQ(kRestartSyscall, 219U);
}

TEST(SyscallTable, UnknownNamesHaveNoNumber) {
  for (std::string_view n : {"", "foo", "EXECVE", "execve ", "59", "a", "all", "sys_execve"}) {
    SCOPED_TRACE(n);
    EXPECT_EQ(table::number(n), std::nullopt);
  }
}

TEST(SyscallTable, GapsAndOutOfRangeNumbersHaveNoName) {
  EXPECT_EQ(table::name(500), std::nullopt);
  for (unsigned nr : {kSyscallWidth, kSyscallWidth + 1, 1000U, 0x40000000U + 59, ~0U}) {
    SCOPED_TRACE(nr);
    EXPECT_EQ(table::name(nr), std::nullopt);
  }
}

TEST(SyscallTable, HighestNamedIsPlausibleAndNamed) {
  const unsigned hi = table::highest_named();
  EXPECT_GE(hi, 400U);
  EXPECT_LT(hi, kSyscallWidth);
  EXPECT_TRUE(table::name(hi).has_value());
  for (unsigned nr = hi + 1; nr < kSyscallWidth; ++nr) EXPECT_EQ(table::name(nr), std::nullopt) << nr;
}

TEST(SyscallTable, EveryNamedNumberRoundTrips) {
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (auto n = table::name(nr)) {
      EXPECT_FALSE(n->empty()) << nr;
      EXPECT_EQ(table::number(*n), std::optional<unsigned>(nr)) << *n;
    }
  }
}

}  // namespace
}  // namespace syscg
