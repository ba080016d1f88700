// The seccomp compiler's test cases and checker: sets of every shape, and a
// check of every number's verdict and path through the interpreter.
#pragma once

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

namespace syscg::bpf::compiler_testing {

using testing::call;

inline constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
inline constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
inline constexpr std::uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
inline constexpr std::uint32_t kX32 = 0x40000000;
inline constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
inline constexpr std::uint64_t kHigh = 1ULL << 32;  // the lowest bit of an argument's high word
using Args = std::initializer_list<std::uint64_t>;
// 8 header instructions, at most 511 jge and 512 leaves, 3 more for the clone
// guard, 7 for the prctl exemption, 6 for the (supervised) seccomp guard;
// trampolines come on top (a handful).
inline constexpr std::size_t kSizeBound = 8 + 511 + 512 + 3 + 7 + 6 + 16;

struct Case {
  std::string name;
  SyscallSet set;
};

inline SyscallSet without(SyscallSet s, std::initializer_list<unsigned> nrs) {
  for (unsigned nr : nrs) EXPECT_TRUE(s.reset(nr).has_value());
  return s;
}
inline SyscallSet with(SyscallSet s, std::initializer_list<unsigned> nrs) {
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr).has_value());
  return s;
}

inline std::vector<Case> cases() {
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
      c.push_back(
          {fmt::format("random p={} seed={} +seccomp -prctl", p, seed), with(without(s, {kPrctlNr}), {kSeccompNr})});
      c.push_back(
          {fmt::format("random p={} seed={} -seccomp +prctl", p, seed), with(without(s, {kSeccompNr}), {kPrctlNr})});
    }
    for (unsigned max_run : {2U, 8U, 40U, 200U})
      c.push_back({fmt::format("runs max={} seed={}", max_run, seed), testing::random_runs(seed, max_run)});
  }
  return c;
}

// Runs of an unsupervised filter: allowed clone, denied seccomp and prctl
// and clone3 are verdicts of their own.
inline std::size_t run_count(const SyscallSet& s) {
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
inline bool checked_path(const SyscallSet& s, std::uint32_t nr) {
  return ((nr == kSeccompNr || nr == kPrctlNr) && !s.test(nr)) || (nr == kCloneNr && s.test(nr));
}

// What an unsupervised filter for `set` answers for a native nr with
// arguments that match no exemption and carry no CLONE_PARENT.
inline std::uint32_t plain_verdict(const SyscallSet& set, std::uint32_t nr) {
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
      failures_.push_back(
          fmt::format("nr {:#x}: interpreter error {}", static_cast<std::uint32_t>(d.nr), r.error().message));
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

inline void check_set(const SyscallSet& set) {
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
  for (std::uint32_t nr : {0x3fffffffU, 0x80000000U, 0xbfffffffU}) check.expect(call(nr), kEnosys);
  for (std::uint32_t nr : {0x7fffffffU, 0xffffffffU, kX32 | kSeccompNr, kX32 | kPrctlNr})
    check.expect(call(nr, {1, 1}), kEperm);
  for (std::uint32_t arch : {0U, std::uint32_t{AUDIT_ARCH_AARCH64}, std::uint32_t{AUDIT_ARCH_X86_64} ^ 1U})
    check.expect(call(59, {}, arch), kEperm);
}

}  // namespace syscg::bpf::compiler_testing
