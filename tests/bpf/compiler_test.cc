// Unit tests of the seccomp compiler: every number gets its set's verdict,
// routed numbers, determinism and size (checks in compiler_checks.h).
#include "tests/bpf/compiler_checks.h"

#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/disassembler.h"
#include "enforcer/bpf/interpreter.h"
#include "tests/bpf/util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <linux/audit.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace syscg::bpf {
namespace {

using namespace compiler_testing;

TEST(BpfCompiler, EveryNumberGetsItsSetsVerdict) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    check_set(c.set);
  }
}

// Supervised filters (live loosening): denied numbers in `notify` return
// USER_NOTIF, the rest of the shape is unchanged.
std::vector<std::pair<SyscallSet, SyscallSet>> supervised_cases() {
  return {
      {without(SyscallSet::all(), {59}), with(SyscallSet::none(), {59})},
      {SyscallSet::none(), SyscallSet::all()},  // everything routed (notify is ignored where allowed)
      {testing::alternating(0), testing::random_set(3, 0.5)},
      {without(testing::random_set(4, 0.7), {kSeccompNr, kPrctlNr}), with(testing::random_set(5, 0.5), {kSeccompNr})},
      {without(SyscallSet::all(), {kSeccompNr, kPrctlNr, 1}), with(SyscallSet::none(), {kSeccompNr, kPrctlNr})},
      {without(SyscallSet::all(), {kCloneNr, kClone3Nr}), with(SyscallSet::none(), {kCloneNr, kClone3Nr})},
      {without(SyscallSet::all(), {kCloneNr, 1}), with(SyscallSet::none(), {1})},
  };
}

TEST(BpfCompiler, RoutedNumbersReturnUserNotif) {
  for (const auto& [allowed, notify] : supervised_cases()) {
    auto compiled = compile(allowed, notify);
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
    const Program& p = compiled.value();
    ASSERT_TRUE(validate(p).has_value()) << disassemble(p);
    EXPECT_LE(p.size(), kSizeBound) << disassemble(p);
    Checker check(p);
    for (std::uint32_t nr = 0; nr < kSyscallWidth; ++nr) {
      const std::uint32_t denied = notify.test(nr) ? kNotify : kEperm;
      const std::uint32_t want = nr == kClone3Nr ? kEnosys : allowed.test(nr) ? kAllow : denied;
      const Trace t = check.expect(call(nr), want);
      const bool checked = checked_path(allowed, nr) || nr == kSeccompNr || (nr == kCloneNr && notify.test(nr));
      if (!checked && t.loads != std::vector<std::uint32_t>{kOffsetArch, kOffsetNr})
        check.fail(fmt::format("nr {}: loads more than arch and nr", nr));
      check.expect(call(kX32 | nr), kEperm);  // never routed: the supervisor sees native numbers only
      check.expect(call(nr, {}, AUDIT_ARCH_I386), kEperm);
    }
    check.expect(call(kSyscallWidth), kEnosys);
    // No listener of one's own beside ours, whether 317 is allowed or not.
    const std::uint32_t new_listener = kSeccompFlagNewListener;
    check.expect(call(kSeccompNr, {1, new_listener, 0}), kEperm);
    check.expect(call(kSeccompNr, {1, new_listener | 1, 0}), kEperm);
    check.expect(call(kCloneNr, {kCloneParent}), kEperm);  // routed or not
    check.expect(call(kSeccompNr, {1, 1, 0}), kAllow);     // TSYNC: the injection's own call still passes
    check.expect(call(kSeccompNr, {1, 0, 0}), kAllow);
    check.expect(call(kSeccompNr, {3, 0, 0}), allowed.test(kSeccompNr)  ? kAllow
                                              : notify.test(kSeccompNr) ? kNotify
                                                                        : kEperm);
    if (!allowed.test(kPrctlNr)) {
      check.expect(call(kPrctlNr, {38, 1}), kAllow);
      check.expect(call(kPrctlNr, {22, 2}), notify.test(kPrctlNr) ? kNotify : kEperm);
    }
  }
}

// Errno per number: each denied number returns its errno (clamped as the
// kernel clamps), routed and allowed numbers ignore theirs, the guards and
// the foreign paths stay EPERM, clone3 ENOSYS.
TEST(BpfCompiler, DeniedNumbersReturnTheirErrno) {
  const SyscallSet allowed = without(SyscallSet::all(), {1, 2, 3, 59, 60, kPrctlNr, kSeccompNr, kClone3Nr, 300});
  DenyErrnos errnos;
  errnos.assign(with(SyscallSet::none(), {2, 3, 59, kPrctlNr, kSeccompNr, kClone3Nr}), ENOSYS);
  errnos.assign(with(SyscallSet::none(), {60}), EACCES);
  errnos.assign(with(SyscallSet::none(), {0}), EROFS);  // allowed: ignored
  const SyscallSet notify = with(SyscallSet::none(), {300});
  errnos.assign(notify, EIO);  // routed: the supervisor's to answer
  auto compiled = compile(allowed, notify, errnos);
  ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
  ASSERT_TRUE(validate(compiled.value()).has_value());
  Checker check(compiled.value());
  const auto errno_ret = [](int e) { return static_cast<std::uint32_t>(SECCOMP_RET_ERRNO | e); };
  check.expect(call(0), kAllow);
  check.expect(call(1), kEperm);
  check.expect(call(2), errno_ret(ENOSYS));
  check.expect(call(3), errno_ret(ENOSYS));
  check.expect(call(59), errno_ret(ENOSYS));
  check.expect(call(60), errno_ret(EACCES));
  check.expect(call(300), kNotify);
  check.expect(call(kClone3Nr), kEnosys);
  check.expect(call(kPrctlNr), errno_ret(ENOSYS));
  check.expect(call(kPrctlNr, {38, 1, 0, 0, 0, 0}), kAllow);  // the exemption stays
  check.expect(call(kSeccompNr, {2, 0, 0, 0, 0, 0}), errno_ret(ENOSYS));
  // Large errnos are clamped to MAX_ERRNO, as the kernel does.
  DenyErrnos big;
  big.assign(with(SyscallSet::none(), {1}), kMaxErrno);
  auto clamped = compile(allowed, {}, big);
  ASSERT_TRUE(clamped.has_value());
  Checker(clamped.value()).expect(call(1), errno_ret(kMaxErrno));
}

TEST(BpfCompiler, Deterministic) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    const auto a = compile(c.set);
    const auto b = compile(c.set);
    ASSERT_TRUE(a.has_value() && b.has_value());
    ASSERT_EQ(a.value().size(), b.value().size());
    EXPECT_EQ(std::memcmp(a.value().data(), b.value().data(), a.value().size() * sizeof(sock_filter)), 0);
  }
}

TEST(BpfCompiler, SizeStaysFarBelowTheKernelLimit) {
  std::size_t worst = 0;
  std::string worst_name;
  for (const auto& c : cases()) {
    const auto p = compile(c.set);
    ASSERT_TRUE(p.has_value());
    if (p.value().size() > worst) {
      worst = p.value().size();
      worst_name = c.name;
    }
  }
  // Alternating verdicts are the worst case: 512 runs, and with the even set
  // both exemption leaves too (157 and 317 are odd).
  const auto even = compile(testing::alternating(0));
  ASSERT_TRUE(even.has_value());
  EXPECT_EQ(worst, even.value().size()) << worst_name;
  EXPECT_LE(even.value().size(), kSizeBound);
  EXPECT_LE(even.value().size(), kMaxInstructions / 3);
  RecordProperty("worst_case_instructions", static_cast<int>(even.value().size()));
  std::printf("worst case (even numbers allowed): %zu instructions\n", even.value().size());
  // The smallest filters. all: runs allow|clone|allow|clone3|allow: header
  // 8, 4 jge, 3 ret, clone guard 4, clone3 1.
  const std::size_t all = compile(SyscallSet::all()).value().size();
  EXPECT_EQ(all, 8U + 4 + 3 + 4 + 1);
  // One hole (59) splits an allow run: 2 more runs, 2 more jge and rets.
  const std::size_t one_hole = compile(without(SyscallSet::all(), {59})).value().size();
  EXPECT_EQ(one_hole, all + 4);
  // none: runs deny|prctl|deny|seccomp|deny|clone3|deny: header 8, 6 jge,
  // 4 ret, prctl exemption 8, seccomp exemption 4, clone3 1.
  EXPECT_EQ(compile(SyscallSet::none()).value().size(), 8U + 6 + 4 + 8 + 4 + 1);
  std::printf("all allowed: %zu instructions, all but 59: %zu\n", all, one_hole);
}

}  // namespace
}  // namespace syscg::bpf
