// Core model benchmarks: the per-level check (flattened vs the first draft's
// ancestor walk), deny propagation over large trees, and command parsing.
#include "core/grammar.h"
#include "core/hierarchy.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>
#include <vector>

namespace syscg {
namespace {

// A chain root -> g1 -> ... -> g<depth>, each level denying one more number so
// that every level's set differs; returns the deepest group.
GroupId make_chain(Hierarchy& h, int depth) {
  GroupId g = kRootGroup;
  for (int i = 1; i <= depth; ++i) {
    g = h.create(g, fmt::format("g{}", i)).value();
    SyscallSet s;
    (void)s.set(300 + static_cast<unsigned>(i));
    h.deny(g, s).value();
  }
  return g;
}

// The numbers a check looks up: allowed ones, so the naive walk must visit
// every ancestor (a denied number may stop it early).
constexpr unsigned kProbe[] = {0, 1, 3, 9, 39, 59, 60, 202, 231, 257};

template <bool kNaive>
void BM_Check(benchmark::State& state) {
  Hierarchy h;
  const GroupId g = make_chain(h, static_cast<int>(state.range(0)));
  unsigned i = 0;
  for (auto _ : state) {
    const unsigned nr = kProbe[i++ % std::size(kProbe)];
    benchmark::DoNotOptimize(kNaive ? h.check_naive(g, nr) : h.check(g, nr));
  }
  state.counters["depth"] = static_cast<double>(state.range(0));
}
void BM_CheckFlattened(benchmark::State& s) { BM_Check<false>(s); }
void BM_CheckNaiveWalk(benchmark::State& s) { BM_Check<true>(s); }
BENCHMARK(BM_CheckFlattened)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64);
BENCHMARK(BM_CheckNaiveWalk)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64);

// A tree of `groups` groups under one top group, ten children per node,
// breadth first. Each deny walks the whole subtree.
void BM_DenyPropagation(benchmark::State& state) {
  Hierarchy h;
  const auto groups = static_cast<std::size_t>(state.range(0));
  const GroupId top = h.create(kRootGroup, "top").value();
  std::vector<GroupId> order{top};
  for (std::size_t next = 0; order.size() < groups; ++next)
    for (int c = 0; c < 10 && order.size() < groups; ++c)
      order.push_back(h.create(order[next], fmt::format("c{}", c)).value());
  unsigned nr = 0;
  for (auto _ : state) {
    SyscallSet s;
    (void)s.set(nr++ % 200);
    benchmark::DoNotOptimize(h.deny(top, s));
  }
  state.counters["groups"] = static_cast<double>(groups);
}
BENCHMARK(BM_DenyPropagation)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_Parse(benchmark::State& state, const std::string& command, grammar::ListFile file) {
  for (auto _ : state) benchmark::DoNotOptimize(grammar::parse_syscall_list(command, file));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * command.size()));
}

std::string hundred_numbers() {
  std::string s;
  for (unsigned i = 0; i < 100; ++i) s += fmt::format("{} ", i * 3);
  return s + "\n";
}

BENCHMARK_CAPTURE(BM_Parse, one_number, std::string("59\n"), grammar::ListFile::deny);
BENCHMARK_CAPTURE(BM_Parse, one_name, std::string("execve\n"), grammar::ListFile::deny);
BENCHMARK_CAPTURE(BM_Parse, range, std::string("0-511\n"), grammar::ListFile::deny);
BENCHMARK_CAPTURE(BM_Parse, names_list, std::string("execve,execveat,fork,vfork,ptrace,kexec_load\n"),
                  grammar::ListFile::deny);
BENCHMARK_CAPTURE(BM_Parse, hundred_numbers, hundred_numbers(), grammar::ListFile::allow);

}  // namespace
}  // namespace syscg
