// Unit tests of the seccomp compiler: the exemptions and guards every
// filter carries (seccomp, prctl, NEW_LISTENER, clone, clone3).
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

TEST(BpfCompiler, SeccompExemptionWhenDenied) {
  for (const auto& set : {without(SyscallSet::all(), {kSeccompNr}), SyscallSet::none(), testing::alternating(0),
                          without(testing::random_set(7, 0.5), {kSeccompNr})}) {
    auto p = compile(set);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    check.expect(call(kSeccompNr, {1, 0, 0}), kAllow);           // SECCOMP_SET_MODE_FILTER
    check.expect(call(kSeccompNr, {1, 8, 0x7ffc0000}), kAllow);  // any flags, any pointer
    check.expect(call(kSeccompNr, {0, 0, 0}), kEperm);           // SET_MODE_STRICT
    check.expect(call(kSeccompNr, {2, 0, 0}), kEperm);           // GET_ACTION_AVAIL
    check.expect(call(kSeccompNr, {3, 0, 0}), kEperm);           // GET_NOTIF_SIZES
    // op is an unsigned int: the kernel drops the high word and sees op == 1
    check.expect(call(kSeccompNr, {1 | kHigh, 0}), kAllow);
    check.expect(call(kSeccompNr, {~0ULL << 32 | 1, 0}), kAllow);
    check.expect(call(kSeccompNr, {2 | kHigh, 0}), kEperm);  // op == 2
    check.expect(call(kSeccompNr, {kHigh, 0}), kEperm);      // op == 0
    check.expect(call(kSeccompNr, {~0ULL << 32, 0}), kEperm);
    check.expect(call(kSeccompNr, {1}, AUDIT_ARCH_I386), kEperm);
    check.expect(call(kX32 | kSeccompNr, {1}), kEperm);
    Trace t = check.expect(call(kSeccompNr, {1}), kAllow);
    EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, kOffsetNr, arg_low(0)}));
  }
}

TEST(BpfCompiler, PrctlExemptionWhenDenied) {
  for (const auto& set : {without(SyscallSet::all(), {kPrctlNr}), SyscallSet::none(), testing::alternating(0),
                          without(testing::random_set(8, 0.5), {kPrctlNr})}) {
    auto p = compile(set);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    check.expect(call(kPrctlNr, {38, 1}), kAllow);  // PR_SET_NO_NEW_PRIVS, 1
    check.expect(call(kPrctlNr, {38, 1, 5, 6, 7}), kAllow);
    check.expect(call(kPrctlNr, {38, 0}), kEperm);
    check.expect(call(kPrctlNr, {38, 2}), kEperm);
    check.expect(call(kPrctlNr, {22, 2}), kEperm);  // PR_SET_SECCOMP
    check.expect(call(kPrctlNr, {39, 0}), kEperm);  // PR_GET_NO_NEW_PRIVS
    check.expect(call(kPrctlNr, {0, 0}), kEperm);
    // option is an int: the kernel drops the high word and sees 38
    check.expect(call(kPrctlNr, {38 | kHigh, 1}), kAllow);
    check.expect(call(kPrctlNr, {~0ULL << 32 | 38, 1}), kAllow);
    check.expect(call(kPrctlNr, {39 | kHigh, 1}), kEperm);
    // arg2 is an unsigned long: the kernel sees all 64 bits, != 1
    check.expect(call(kPrctlNr, {38, 1 | kHigh}), kEperm);
    check.expect(call(kPrctlNr, {38, ~0ULL << 32 | 1}), kEperm);
    check.expect(call(kPrctlNr, {38 | kHigh, 1 | kHigh}), kEperm);
    check.expect(call(kPrctlNr, {38, 1}, AUDIT_ARCH_I386), kEperm);
    check.expect(call(kX32 | kPrctlNr, {38, 1}), kEperm);
    // The seccomp exemption does not leak into prctl and vice versa.
    check.expect(call(kPrctlNr, {1, 0}), kEperm);
    if (!set.test(kSeccompNr)) check.expect(call(kSeccompNr, {38, 1}), kEperm);
    const Trace t = check.expect(call(kPrctlNr, {38, 1}), kAllow);
    EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, kOffsetNr, arg_low(0), arg_low(1), arg_high(1)}));
  }
}

// The NEW_LISTENER guard of a supervised filter compares op and flags as the
// kernel reads them (unsigned int: low words only). Garbage in the high word
// of op once sent seccomp(SET_MODE_FILTER, NEW_LISTENER) down the "other op"
// branch, which allows when 317 is allowed.
TEST(BpfCompiler, NewListenerGuardIgnoresHighWords) {
  const std::uint64_t listener = kSeccompFlagNewListener;
  const auto routed_1 = with(SyscallSet::none(), {1});
  for (const auto& [allowed, notify] : std::vector<std::pair<SyscallSet, SyscallSet>>{
           {SyscallSet::all(), SyscallSet::all()},                   // 317 allowed (notify ignored where allowed)
           {without(SyscallSet::all(), {1}), routed_1},              // 317 allowed, something else routed
           {without(SyscallSet::all(), {1, kSeccompNr}), routed_1},  // 317 denied
           {without(SyscallSet::all(), {kSeccompNr}), with(SyscallSet::none(), {kSeccompNr})},  // 317 routed
       }) {
    auto p = compile(allowed, notify);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    const std::uint32_t other = allowed.test(kSeccompNr) ? kAllow : notify.test(kSeccompNr) ? kNotify : kEperm;
    for (std::uint64_t op : Args{1, 1 | kHigh, ~0ULL << 32 | 1}) {
      SCOPED_TRACE(fmt::format("op {:#x}", op));
      check.expect(call(kSeccompNr, {op, listener}), kEperm);
      check.expect(call(kSeccompNr, {op, listener | kHigh}), kEperm);
      check.expect(call(kSeccompNr, {op, listener | (~0ULL << 32)}), kEperm);
      check.expect(call(kSeccompNr, {op, listener | 1}), kEperm);
      // without the bit in the low word of flags, the kernel sees no listener
      check.expect(call(kSeccompNr, {op, listener << 32}), kAllow);
      check.expect(call(kSeccompNr, {op, 1 | kHigh}), kAllow);
      check.expect(call(kSeccompNr, {op, 0}), kAllow);
    }
    // ops other than SET_MODE_FILTER (as the kernel sees them) get the number's verdict
    for (std::uint64_t op : Args{0, 2, 3, kHigh, 2 | kHigh, ~0ULL << 32})
      check.expect(call(kSeccompNr, {op, listener}), other);
    const Trace t = check.expect(call(kSeccompNr, {1 | kHigh, listener}), kEperm);
    EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, kOffsetNr, arg_low(0), arg_low(1)}));
  }
}

// Members cannot create children that the kernel's fork events would report
// as their parent's: clone with CLONE_PARENT is denied wherever clone would
// otherwise be allowed or asked about.
TEST(BpfCompiler, CloneWithCloneParentIsDenied) {
  constexpr std::uint64_t kForkFlags = 0x01200011;    // glibc fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
  constexpr std::uint64_t kThreadFlags = 0x003d0f00;  // glibc pthread_create
  const std::vector<std::pair<SyscallSet, SyscallSet>> cases{
      {SyscallSet::all(), {}},
      {with(SyscallSet::none(), {kCloneNr}), {}},
      {testing::alternating(0), {}},  // 56 is even
      {testing::alternating(0), testing::alternating(1)},
      {without(SyscallSet::all(), {kCloneNr}), {}},
      {SyscallSet::none(), {}},
      {without(SyscallSet::all(), {kCloneNr}), with(SyscallSet::none(), {kCloneNr})},
      {SyscallSet::none(), SyscallSet::all()},
  };
  for (const auto& [allowed, notify] : cases) {
    auto p = compile(allowed, notify);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    const std::uint32_t own = allowed.test(kCloneNr) ? kAllow : notify.test(kCloneNr) ? kNotify : kEperm;
    for (std::uint64_t flags : Args{0, kForkFlags, kThreadFlags, kThreadFlags | kHigh,
                                    std::uint64_t{kCloneParent} << 32,  // high word: the kernel drops it
                                    ~std::uint64_t{kCloneParent}})
      check.expect(call(kCloneNr, {flags}), own);
    for (std::uint64_t flags :
         Args{kCloneParent, kCloneParent | kForkFlags, kCloneParent | kThreadFlags, kCloneParent | kHigh, ~0ULL})
      check.expect(call(kCloneNr, {flags}), kEperm);
    const Trace t = check.expect(call(kCloneNr, {kForkFlags}), own);
    // Only the allowed (or routed) clone path loads its flags; a denied one is constant.
    const std::vector<std::uint32_t> guarded = {kOffsetArch, kOffsetNr, arg_low(0)};
    const std::vector<std::uint32_t> constant = {kOffsetArch, kOffsetNr};
    EXPECT_EQ(t.loads, own == kEperm ? constant : guarded);
    // the guard does not leak into fork and vfork, which have no flags
    for (unsigned nr : {57U, 58U})
      check.expect(call(nr, {kCloneParent}), allowed.test(nr) ? kAllow : notify.test(nr) ? kNotify : kEperm);
  }
}

// clone3's flags live in user memory, out of BPF's reach: ENOSYS in every
// filter (glibc then falls back to clone), whether allowed, denied or routed.
TEST(BpfCompiler, Clone3IsAlwaysEnosys) {
  const std::vector<std::pair<SyscallSet, SyscallSet>> cases{
      {SyscallSet::all(), {}},
      {SyscallSet::none(), {}},
      {with(SyscallSet::none(), {kClone3Nr}), {}},
      {without(SyscallSet::all(), {kClone3Nr}), {}},
      {without(SyscallSet::all(), {kClone3Nr}), with(SyscallSet::none(), {kClone3Nr})},
      {SyscallSet::none(), SyscallSet::all()},
      {testing::alternating(1), testing::alternating(0)},
  };
  for (const auto& [allowed, notify] : cases) {
    auto p = compile(allowed, notify);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    for (std::uint64_t a : {0ULL, 1ULL, 88ULL, ~0ULL}) {
      const Trace t = check.expect(call(kClone3Nr, {a, a, a, a, a, a}), kEnosys);
      EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, kOffsetNr}));
    }
    check.expect(call(kX32 | kClone3Nr), kEperm);
    check.expect(call(kClone3Nr, {}, AUDIT_ARCH_I386), kEperm);
  }
}

// A group that allows everything still gets a filter: only the clone guard
// and clone3, every other number allowed on a constant path.
TEST(BpfCompiler, AllowAllHoldsOnlyTheCloneGuard) {
  auto p = compile(SyscallSet::all());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p.value().size(), 20U) << disassemble(p.value());
  Checker check(p.value());
  for (std::uint32_t nr = 0; nr < kSyscallWidth; ++nr) {
    if (nr == kCloneNr || nr == kClone3Nr) continue;
    const Trace t = check.expect(call(nr, {~0ULL, ~0ULL}), kAllow);
    if (t.loads != std::vector<std::uint32_t>{kOffsetArch, kOffsetNr}) check.fail(fmt::format("nr {} loads args", nr));
  }
  check.expect(call(kCloneNr, {0x01200011}), kAllow);
  check.expect(call(kCloneNr, {kCloneParent}), kEperm);
  check.expect(call(kClone3Nr), kEnosys);
}

TEST(BpfCompiler, AllowedSeccompAndPrctlTakeAnyArgs) {
  for (const auto& set : {SyscallSet::all(), with(SyscallSet::none(), {kSeccompNr, kPrctlNr}),
                          with(testing::alternating(0), {kSeccompNr, kPrctlNr})}) {
    auto p = compile(set);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    for (std::uint64_t a0 : {0ULL, 1ULL, 2ULL, 22ULL, 38ULL, ~0ULL})
      for (std::uint64_t a1 : {0ULL, 1ULL, ~0ULL}) {
        check.expect(call(kSeccompNr, {a0, a1}), kAllow);
        check.expect(call(kPrctlNr, {a0, a1}), kAllow);
      }
  }
}

}  // namespace
}  // namespace syscg::bpf
