// Helpers of the group tree's unit tests: result matchers, sets, and
// checked accessors.
#pragma once

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

namespace syscg::hierarchy_testing {

using grammar::kUnlimited;

// ---------------------------------------------------------------- helpers

// Concatenates the parts by appending. Not `"text" + std::to_string(n)`: at
// -O3 GCC 12 reports a false -Werror=restrict inside that operator+ (it
// inserts the literal at the front of the temporary).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

inline std::string describe(Errc code) { return std::string(errno_name(code)); }

template <class R>
inline testing::AssertionResult Ok(const R& r) {
  if (r.has_value()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "failed with " << describe(r.error().code) << ": " << r.error().message;
}

template <class R>
inline testing::AssertionResult Fails(const R& r, Errc want) {
  if (r.has_value()) return testing::AssertionFailure() << "succeeded, expected " << describe(want);
  if (r.error().code != want)
    return testing::AssertionFailure() << "failed with " << describe(r.error().code) << " (" << r.error().message
                                       << "), expected " << describe(want);
  return testing::AssertionSuccess();
}

inline SyscallSet range(unsigned first, unsigned last) {
  SyscallSet s;
  EXPECT_TRUE(Ok(s.set_range(first, last)));
  return s;
}

inline SyscallSet of(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(Ok(s.set(nr)));
  return s;
}

// Every number except restart_syscall, as `echo a > syscalls.deny` produces it.
inline SyscallSet deny_all() {
  auto r = grammar::parse_syscall_list("a", grammar::ListFile::deny);
  EXPECT_TRUE(Ok(r));
  return r.has_value() ? r.value() : SyscallSet::none();
}

inline GroupId mk(Hierarchy& h, GroupId parent, std::string_view name) {
  auto r = h.create(parent, name);
  EXPECT_TRUE(Ok(r)) << "create '" << name << "' under " << parent;
  return r.has_value() ? r.value() : kNoGroup;
}

inline SyscallSet allowed(const Hierarchy& h, GroupId g) {
  auto r = h.allowed(g);
  EXPECT_TRUE(Ok(r)) << "allowed(" << g << ")";
  return r.has_value() ? r.value() : SyscallSet::none();
}

inline GroupInfo info(const Hierarchy& h, GroupId g) {
  auto r = h.info(g);
  EXPECT_TRUE(Ok(r)) << "info(" << g << ")";
  return r.has_value() ? r.value() : GroupInfo{};
}

// Every group's allowed set, keyed by id.
inline std::map<GroupId, SyscallSet> all_sets(const Hierarchy& h) {
  std::map<GroupId, SyscallSet> out;
  for (const auto& g : h.snapshot()) out.emplace(g.id, g.allowed);
  return out;
}

}  // namespace syscg::hierarchy_testing
