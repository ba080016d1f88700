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

using testing::call;

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr std::uint32_t kX32 = 0x40000000;
constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr std::uint64_t kHigh = 1ULL << 32;  // the lowest bit of an argument's high word
using Args = std::initializer_list<std::uint64_t>;
// 8 header instructions, at most 511 jge and 512 leaves, 3 more for the clone
// guard, 7 for the prctl exemption, 6 for the (supervised) seccomp guard;
// trampolines come on top (a handful).
constexpr std::size_t kSizeBound = 8 + 511 + 512 + 3 + 7 + 6 + 16;

struct Case {
  std::string name;
  SyscallSet set;
};

SyscallSet without(SyscallSet s, std::initializer_list<unsigned> nrs) {
  for (unsigned nr : nrs) EXPECT_TRUE(s.reset(nr).has_value());
  return s;
}
SyscallSet with(SyscallSet s, std::initializer_list<unsigned> nrs) {
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr).has_value());
  return s;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"empty", SyscallSet::none()});
  c.push_back({"all", SyscallSet::all()});
  for (unsigned nr : {0U, 1U, 59U, kPrctlNr, kRestartSyscall, kSeccompNr, 318U, kSyscallWidth - 1}) {
    c.push_back({fmt::format("all but {}", nr), without(SyscallSet::all(), {nr})});
    c.push_back({fmt::format("only {}", nr), with(SyscallSet::none(), {nr})});
  }
  c.push_back({"all but seccomp and prctl", without(SyscallSet::all(), {kSeccompNr, kPrctlNr})});
  c.push_back({"even", testing::alternating(0)});
  c.push_back({"odd", testing::alternating(1)});
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    for (double p : {0.02, 0.5, 0.98}) {
      const auto s = testing::random_set(seed, p);
      c.push_back({fmt::format("random p={} seed={}", p, seed), s});
      c.push_back({fmt::format("random p={} seed={} -seccomp -prctl", p, seed), without(s, {kSeccompNr, kPrctlNr})});
      c.push_back({fmt::format("random p={} seed={} +seccomp -prctl", p, seed), with(without(s, {kPrctlNr}), {kSeccompNr})});
      c.push_back({fmt::format("random p={} seed={} -seccomp +prctl", p, seed), with(without(s, {kSeccompNr}), {kPrctlNr})});
    }
    for (unsigned max_run : {2U, 8U, 40U, 200U})
      c.push_back({fmt::format("runs max={} seed={}", max_run, seed), testing::random_runs(seed, max_run)});
  }
  return c;
}

// Runs of an unsupervised filter: allowed clone, denied seccomp and prctl
// and clone3 are verdicts of their own.
std::size_t run_count(const SyscallSet& s) {
  std::size_t runs = 0;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    const auto verdict = [&](unsigned n) {
      if (n == kClone3Nr) return 4;
      if (s.test(n)) return n == kCloneNr ? 5 : 0;
      return n == kSeccompNr ? 2 : n == kPrctlNr ? 3 : 1;
    };
    if (nr == 0 || verdict(nr) != verdict(nr - 1)) ++runs;
  }
  return runs;
}

// The paths that load an argument in an unsupervised filter.
bool checked_path(const SyscallSet& s, std::uint32_t nr) {
  return ((nr == kSeccompNr || nr == kPrctlNr) && !s.test(nr)) || (nr == kCloneNr && s.test(nr));
}

// What an unsupervised filter for `set` answers for a native nr with
// arguments that match no exemption and carry no CLONE_PARENT.
std::uint32_t plain_verdict(const SyscallSet& set, std::uint32_t nr) {
  if (nr >= kSyscallWidth || nr == kClone3Nr) return kEnosys;
  return set.test(nr) ? kAllow : kEperm;
}

// Collects mismatches, and reports them once with the disassembly.
class Checker {
 public:
  Checker(const Program& p) : p_(p) {}
  ~Checker() {
    if (failures_.empty()) return;
    std::string msg = fmt::format("{} mismatches:\n", failures_.size());
    for (std::size_t i = 0; i < failures_.size() && i < 12; ++i) msg += "  " + failures_[i] + "\n";
    ADD_FAILURE() << msg << "program:\n" << disassemble(p_);
  }
  // Runs d, compares with want; returns the trace.
  Trace expect(const seccomp_data& d, std::uint32_t want) {
    Trace t;
    auto r = run(p_, d, &t);
    if (!r) {
      failures_.push_back(fmt::format("nr {:#x}: interpreter error {}", static_cast<std::uint32_t>(d.nr),
                                      r.error().message));
    } else if (r.value() != want) {
      failures_.push_back(fmt::format("nr {:#x} arch {:#x} args[0] {:#x} args[1] {:#x}: got {}, want {}",
                                      static_cast<std::uint32_t>(d.nr), d.arch, d.args[0], d.args[1],
                                      action_name(r.value()), action_name(want)));
    }
    return t;
  }
  void fail(std::string what) { failures_.push_back(std::move(what)); }

 private:
  const Program& p_;
  std::vector<std::string> failures_;
};

void check_set(const SyscallSet& set) {
  auto compiled = compile(set);
  ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
  const Program& p = compiled.value();
  ASSERT_TRUE(validate(p).has_value()) << validate(p).error().message << "\n" << disassemble(p);
  EXPECT_LE(p.size(), kSizeBound) << disassemble(p);

  const std::size_t runs = run_count(set);
  // Header (5 executed) + one jge per level, each maybe through a trampoline, + ret.
  const std::size_t path_bound = 5 + 2 * static_cast<std::size_t>(std::bit_width(runs - 1)) + 1;
  const std::vector<std::uint32_t> arch_then_nr = {kOffsetArch, kOffsetNr};
  Checker check(p);
  for (std::uint32_t nr = 0; nr < kSyscallWidth + 64; ++nr) {
    const std::uint32_t want = plain_verdict(set, nr);
    const Trace t = check.expect(call(nr), want);
    // The path depends on nothing but what it loads; loading only arch and
    // nr proves that args cannot change it and that the kernel's constant
    // action cache can hold it.
    if (!checked_path(set, nr) && t.loads != arch_then_nr)
      check.fail(fmt::format("nr {}: loads {} words, not just arch and nr", nr, t.loads.size()));
    if (want == kAllow && t.executed > path_bound)
      check.fail(fmt::format("nr {}: path of {} instructions, bound {}", nr, t.executed, path_bound));
    if (want == kAllow) {  // args do not matter, even ones that look like the exemptions
      check.expect(call(nr, {1, 0, 0, 0, 0, 0}), kAllow);
      check.expect(call(nr, {38, 1, 0, 0, 0, 0}), kAllow);
      // but for clone, where all ones include CLONE_PARENT
      check.expect(call(nr, {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL}), nr == kCloneNr ? kEperm : kAllow);
    }
    if (want == kEnosys) check.expect(call(nr, {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL}), kEnosys);
    check.expect(call(kX32 | nr), kEperm);
    check.expect(call(nr, {}, AUDIT_ARCH_I386), kEperm);
  }
  for (std::uint32_t nr : {0x3fffffffU, 0x80000000U, 0xbfffffffU})
    check.expect(call(nr), kEnosys);
  for (std::uint32_t nr : {0x7fffffffU, 0xffffffffU, kX32 | kSeccompNr, kX32 | kPrctlNr})
    check.expect(call(nr, {1, 1}), kEperm);
  for (std::uint32_t arch : {0U, std::uint32_t{AUDIT_ARCH_AARCH64}, std::uint32_t{AUDIT_ARCH_X86_64} ^ 1U})
    check.expect(call(59, {}, arch), kEperm);
}

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
    check.expect(call(kSeccompNr, {1, 1, 0}), kAllow);  // TSYNC: the injection's own call still passes
    check.expect(call(kSeccompNr, {1, 0, 0}), kAllow);
    check.expect(call(kSeccompNr, {3, 0, 0}),
                 allowed.test(kSeccompNr) ? kAllow : notify.test(kSeccompNr) ? kNotify : kEperm);
    if (!allowed.test(kPrctlNr)) {
      check.expect(call(kPrctlNr, {38, 1}), kAllow);
      check.expect(call(kPrctlNr, {22, 2}), notify.test(kPrctlNr) ? kNotify : kEperm);
    }
  }
}

TEST(BpfCompiler, SeccompExemptionWhenDenied) {
  for (const auto& set :
       {without(SyscallSet::all(), {kSeccompNr}), SyscallSet::none(), testing::alternating(0),
        without(testing::random_set(7, 0.5), {kSeccompNr})}) {
    auto p = compile(set);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    Checker check(p.value());
    check.expect(call(kSeccompNr, {1, 0, 0}), kAllow);                 // SECCOMP_SET_MODE_FILTER
    check.expect(call(kSeccompNr, {1, 8, 0x7ffc0000}), kAllow);        // any flags, any pointer
    check.expect(call(kSeccompNr, {0, 0, 0}), kEperm);                 // SET_MODE_STRICT
    check.expect(call(kSeccompNr, {2, 0, 0}), kEperm);                 // GET_ACTION_AVAIL
    check.expect(call(kSeccompNr, {3, 0, 0}), kEperm);                 // GET_NOTIF_SIZES
    // op is an unsigned int: the kernel drops the high word and sees op == 1
    check.expect(call(kSeccompNr, {1 | kHigh, 0}), kAllow);
    check.expect(call(kSeccompNr, {~0ULL << 32 | 1, 0}), kAllow);
    check.expect(call(kSeccompNr, {2 | kHigh, 0}), kEperm);   // op == 2
    check.expect(call(kSeccompNr, {kHigh, 0}), kEperm);       // op == 0
    check.expect(call(kSeccompNr, {~0ULL << 32, 0}), kEperm);
    check.expect(call(kSeccompNr, {1}, AUDIT_ARCH_I386), kEperm);
    check.expect(call(kX32 | kSeccompNr, {1}), kEperm);
    Trace t = check.expect(call(kSeccompNr, {1}), kAllow);
    EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, kOffsetNr, arg_low(0)}));
  }
}

TEST(BpfCompiler, PrctlExemptionWhenDenied) {
  for (const auto& set :
       {without(SyscallSet::all(), {kPrctlNr}), SyscallSet::none(), testing::alternating(0),
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
           {SyscallSet::all(), SyscallSet::all()},  // 317 allowed (notify ignored where allowed)
           {without(SyscallSet::all(), {1}), routed_1},  // 317 allowed, something else routed
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
  constexpr std::uint64_t kForkFlags = 0x01200011;   // glibc fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
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
    for (std::uint64_t flags : Args{kCloneParent, kCloneParent | kForkFlags, kCloneParent | kThreadFlags,
                                kCloneParent | kHigh, ~0ULL})
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
