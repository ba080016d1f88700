// Control-file latency through a real syscgfs mount: what `echo N > deny`
// and `cat syscalls.allow` cost a shell user, and the mkdir/rmdir rate.
// Each operation is the system calls the shell makes (open, write or read,
// close); per-call samples give p50/p99 counters.
#include "tests/support/mount.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

syscg::test::Mount& mount() {
  static auto m = std::make_unique<syscg::test::Mount>();  // saves its state (fsync) before every reply
  return *m;
}

syscg::test::Mount& mount_without_state() {
  static auto m = std::make_unique<syscg::test::Mount>(std::vector<std::string>{"-o", "state=none"});
  return *m;
}

void write_file(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("write failed: " + path);
  close(fd);
}

std::size_t read_file(const std::string& path) {
  char buf[4096];
  const int fd = open(path.c_str(), O_RDONLY);
  std::size_t total = 0;
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) total += static_cast<std::size_t>(n);
  close(fd);
  return total;
}

// Runs op once per iteration, timing each call, and reports p50/p99 in µs.
template <class Op>
void timed(benchmark::State& state, Op op) {
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    op();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

// A group `name` with `descendants` groups below it (ten per node).
std::string make_tree(const std::string& name, int descendants, syscg::test::Mount& m = mount()) {
  const std::string top = m.path(name);
  if (mkdir(top.c_str(), 0755) != 0) return top;  // built by an earlier run
  std::vector<std::string> order{top};
  for (std::size_t next = 0; static_cast<int>(order.size()) <= descendants; ++next)
    for (int c = 0; c < 10 && static_cast<int>(order.size()) <= descendants; ++c) {
      order.push_back(fmt::format("{}/c{}", order[next], c));
      mkdir(order.back().c_str(), 0755);
    }
  return top;
}

void BM_DenyWrite(benchmark::State& state) {
  const auto dir = make_tree(fmt::format("deny{}", state.range(0)), static_cast<int>(state.range(0)));
  unsigned nr = 0;
  timed(state, [&] { write_file(dir + "/syscalls.deny", fmt::format("{}\n", nr++ % 200)); });
  state.counters["descendants"] = static_cast<double>(state.range(0));
}
// With persistence every change rewrites the whole state file, so the tree
// is kept to 1 000 groups here (building 10 000 would take minutes).
BENCHMARK(BM_DenyWrite)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond)->Iterations(500);

// The same leaf write with persistence off: the difference is the cost of
// saving the state (write, fsync, rename, fsync) before each reply.
void BM_DenyWriteNoState(benchmark::State& state) {
  const auto dir =
      make_tree(fmt::format("deny{}", state.range(0)), static_cast<int>(state.range(0)), mount_without_state());
  unsigned nr = 0;
  timed(state, [&] { write_file(dir + "/syscalls.deny", fmt::format("{}\n", nr++ % 200)); });
  state.counters["descendants"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_DenyWriteNoState)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond)->Iterations(2000);

void BM_CatAllow(benchmark::State& state) {
  const auto dir = make_tree("cat", 0);
  timed(state, [&] { benchmark::DoNotOptimize(read_file(dir + "/syscalls.allow")); });
}
BENCHMARK(BM_CatAllow)->Unit(benchmark::kMicrosecond)->Iterations(5000);

void BM_MkdirRmdir(benchmark::State& state) {
  const auto dir = mount().path("g");
  timed(state, [&] {
    mkdir(dir.c_str(), 0755);
    rmdir(dir.c_str());
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MkdirRmdir)->Unit(benchmark::kMicrosecond)->Iterations(5000);

}  // namespace
