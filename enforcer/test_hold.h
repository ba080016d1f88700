// The test hook SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS (the tests of pid
// recycling: a pause between identifying a written pid and pinning it),
// parsed strictly: decimal digits only, 0..60000; anything else is an
// error (invalid), and the hook stays off.
#pragma once

#include "core/error.h"

#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <string_view>

namespace syscg::enforcer {

inline constexpr std::string_view kTestHoldVariable = "SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS";

inline Result<std::chrono::milliseconds> parse_test_hold(std::string_view text) {
  constexpr long kMax = 60'000;
  long ms = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, ms);
  if (text.empty() || text.front() == '-' || ec != std::errc() || ptr != end || ms > kMax)
    return make_error(Errc::invalid,
                      fmt::format("{}='{}': not a number of milliseconds in 0..{}", kTestHoldVariable, text, kMax));
  return std::chrono::milliseconds(ms);
}

}  // namespace syscg::enforcer
