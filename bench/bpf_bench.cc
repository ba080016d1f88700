// The seccomp compiler: time to compile a group's filter, and the filter's
// size and longest allowed path next to libseccomp's equivalent allow-list
// filters (default priority list and binary tree). Nothing is ever loaded.
#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/interpreter.h"
#include "tests/bpf/libseccomp_reference.h"
#include "tests/bpf/util.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>

namespace syscg::bpf {
namespace {

constexpr std::uint64_t kSeed = 42;

// The longest path, in executed instructions, of an allowed call (args zero).
double path_max(const Program& p, const SyscallSet& allowed) {
  std::size_t longest = 0;
  Trace t;
  for (unsigned nr : allowed) {
    if (!syscall_table::name(nr)) continue;  // the libseccomp filters only know named numbers
    if (!run(p, testing::call(nr), &t)) std::abort();
    longest = std::max(longest, t.executed);
  }
  return static_cast<double>(longest);
}

Program must(Result<Program> r) {
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::abort();
  }
  return std::move(r).value();
}

void compile_and_count(benchmark::State& state, const SyscallSet& allowed) {
  for (auto _ : state) {
    auto p = compile(allowed);
    benchmark::DoNotOptimize(p);
  }
  const Program ours = must(compile(allowed));
  const Program list = must(testing::libseccomp_filter(allowed, false));
  const Program tree = must(testing::libseccomp_filter(allowed, true));
  state.counters["insns"] = static_cast<double>(ours.size());
  state.counters["insns_libseccomp"] = static_cast<double>(list.size());
  state.counters["insns_libseccomp_tree"] = static_cast<double>(tree.size());
  state.counters["path_max"] = path_max(ours, allowed);
  state.counters["path_max_libseccomp"] = path_max(list, allowed);
  state.counters["path_max_libseccomp_tree"] = path_max(tree, allowed);
}

// Everything allowed but `denied` random named numbers: a deny-list group.
void BM_Compile(benchmark::State& state) {
  compile_and_count(state, testing::all_but_random(kSeed, static_cast<unsigned>(state.range(0)), true));
}
BENCHMARK(BM_Compile)->ArgName("denied")->Arg(1)->Arg(10)->Arg(50)->Arg(300);

// The worst case: alternating verdicts (even numbers allowed), 512 runs.
void BM_CompileWorstCase(benchmark::State& state) { compile_and_count(state, testing::alternating(0)); }
BENCHMARK(BM_CompileWorstCase);

}  // namespace
}  // namespace syscg::bpf
