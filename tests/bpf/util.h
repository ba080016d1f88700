// Helpers shared by the bpf tests.
#pragma once

#include "core/syscall_set.h"
#include "core/syscall_table.h"
#include "enforcer/bpf/program.h"

#include <linux/audit.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace syscg::bpf::testing {

inline seccomp_data call(std::uint32_t nr, std::array<std::uint64_t, 6> args = {},
                         std::uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = static_cast<int>(nr);
  d.arch = arch;
  d.instruction_pointer = 0x7f0000001234;
  for (unsigned i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

// Each number independently a member with probability p.
inline SyscallSet random_set(std::uint64_t seed, double p) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution member(p);
  SyscallSet s;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (member(rng)) (void)s.set(nr);
  return s;
}

// Alternating runs of members and non-members with random lengths 1..max_run.
inline SyscallSet random_runs(std::uint64_t seed, unsigned max_run) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<unsigned> len(1, max_run);
  SyscallSet s;
  bool in = std::bernoulli_distribution(0.5)(rng);
  for (unsigned nr = 0; nr < kSyscallWidth; in = !in) {
    const unsigned end = std::min(kSyscallWidth, nr + len(rng));
    if (in) (void)s.set_range(nr, end - 1);
    nr = end;
  }
  return s;
}

// Every number but `denied` of them, chosen at random among named numbers
// when `named_only`.
inline SyscallSet all_but_random(std::uint64_t seed, unsigned denied, bool named_only) {
  std::vector<unsigned> pool;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (!named_only || syscall_table::name(nr)) pool.push_back(nr);
  std::mt19937_64 rng(seed);
  std::shuffle(pool.begin(), pool.end(), rng);
  auto s = SyscallSet::all();
  for (unsigned i = 0; i < denied && i < pool.size(); ++i) (void)s.reset(pool[i]);
  return s;
}

inline SyscallSet alternating(unsigned parity) {
  SyscallSet s;
  for (unsigned nr = parity; nr < kSyscallWidth; nr += 2) (void)s.set(nr);
  return s;
}

}  // namespace syscg::bpf::testing
