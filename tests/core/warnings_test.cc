#include "core/warnings.h"

#include <gtest/gtest.h>

namespace syscg {
namespace {

SyscallSet all_but(std::initializer_list<unsigned> denied) {
  SyscallSet s = SyscallSet::all();
  for (unsigned nr : denied) (void)s.reset(nr);
  return s;
}

std::vector<std::string> tags(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    const auto nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    out.push_back(line.substr(0, line.find(' ', line.find(' ') + 1)));  // "TAG SUBJECT"
    at = nl + 1;
  }
  return out;
}

TEST(Warnings, NothingToSayForAGroupThatAllowsAll) { EXPECT_EQ(warnings::render({SyscallSet::all(), {}, {}, {}}), ""); }

TEST(Warnings, DeniedVdsoNumbersAreNamed) {
  EXPECT_EQ(tags(warnings::render({all_but({228}), {}, {}, {}})), std::vector<std::string>{"vdso 228"});
  EXPECT_EQ(tags(warnings::render({all_but({96, 201, 228, 309, 59}), {}, {}, {}})),
            std::vector<std::string>{"vdso 96,201,228,309"});
}

TEST(Warnings, IoUringOffAsAConsequenceIsNamedWithItsCause) {
  EXPECT_EQ(tags(warnings::render({all_but({257, 42}), {}, {}, {}})), std::vector<std::string>{"io_uring 42,257"});
  // Denied as such: no consequence to report.
  EXPECT_EQ(warnings::render({all_but({257, 425, 426, 427}), {}, {}, {}}), "");
  EXPECT_EQ(warnings::render({all_but({63}), {}, {}, {}}), "");  // uname: nothing io_uring can do
}

TEST(Warnings, MembersAreListedAscendingAndOnce) {
  const auto text = warnings::render({SyscallSet::all(), {30, 7, 30}, {}, {5}});
  EXPECT_EQ(tags(text), (std::vector<std::string>{"stricter 7,30", "killed 5"}));
}

TEST(Warnings, PtraceCapableMembersOnlyWhereTheGroupAllowsAWayIn) {
  EXPECT_EQ(tags(warnings::render({SyscallSet::all(), {}, {12}, {}})), std::vector<std::string>{"subvert 12"});
  EXPECT_EQ(warnings::render({all_but({101, 311, 438}), {}, {12}, {}}), "");
  EXPECT_EQ(tags(warnings::render({all_but({101, 311}), {}, {12}, {}})), std::vector<std::string>{"subvert 12"});
}

TEST(Warnings, TagsComeInTheirFixedOrder) {
  const auto text = warnings::render({all_but({228, 257}), {3}, {4}, {5}});
  EXPECT_EQ(tags(text), (std::vector<std::string>{"vdso 228", "io_uring 257", "stricter 3", "subvert 4", "killed 5"}));
}

}  // namespace
}  // namespace syscg
