// Control-file latency through a real syscgfs mount: what `echo N > deny`
// and `cat syscalls.allow` cost a shell user, and the mkdir/rmdir rate.
// Each operation is the system calls the shell makes (open, write or read,
// close); per-call samples give p50/p99 counters. With persistence, every
// change is durable in the state database (one WAL fsync per commit) before
// its reply; BM_FsyncBaseline is one bare fsync on the same filesystem.
#include "tests/support/mount.h"

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <map>
#include <thread>
#include <utility>
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

// A group's write that changes it: deny `nr` (timed), then allow it back
// (untimed), so that every timed write narrows the set and is saved.
void deny_then_allow(benchmark::State& state, const std::string& group, unsigned& nr, std::vector<double>& us) {
  const auto t0 = Clock::now();
  write_file(group + "/syscalls.deny", fmt::format("{}\n", nr));
  us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  state.PauseTiming();
  write_file(group + "/syscalls.allow", fmt::format("{}\n", nr));
  nr = (nr + 1) % 200;
  state.ResumeTiming();
}

void percentiles(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

// A mount whose tree holds `groups` groups (ten per node under /t), each
// size its own mount and state database; the deepest last group is `leaf`.
struct Tree {
  std::unique_ptr<syscg::test::Mount> mount;
  std::string leaf;
};
Tree& tree(int groups, bool persist) {
  static std::map<std::pair<int, bool>, Tree> trees;
  auto& t = trees[{groups, persist}];
  if (t.mount) return t;
  t.mount = persist ? std::make_unique<syscg::test::Mount>()
                    : std::make_unique<syscg::test::Mount>(std::vector<std::string>{"-o", "state=none"});
  t.leaf = make_tree("t", groups - 1, *t.mount);
  std::vector<std::string> order{t.leaf};
  for (std::size_t next = 0; static_cast<int>(order.size()) < groups; ++next)
    for (int c = 0; c < 10 && static_cast<int>(order.size()) < groups; ++c)
      order.push_back(fmt::format("{}/c{}", order[next], c));
  t.leaf = order.back();
  return t;
}

// A leaf's deny with the state saved before the reply, vs the groups in the
// tree: one row and one commit (one WAL fsync) whatever the tree. Measured
// in steady state, as in a daemon that has run a while: the warm-up writes
// more than the WAL holds before a checkpoint (1,000 pages), after which
// SQLite rewrites the WAL from its start instead of growing it.
void BM_DenyLeaf(benchmark::State& state) {
  auto& t = tree(static_cast<int>(state.range(0)), true);
  for (int i = 0; i < 600; ++i) {
    write_file(t.leaf + "/syscalls.deny", "250\n");
    write_file(t.leaf + "/syscalls.allow", "250\n");
  }
  unsigned nr = 0;
  std::vector<double> us;
  for (auto _ : state) deny_then_allow(state, t.leaf, nr, us);
  percentiles(state, std::move(us));
  state.counters["groups"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_DenyLeaf)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->Iterations(500);

// The same with persistence off (-o state=none).
void BM_DenyLeafNoState(benchmark::State& state) {
  auto& t = tree(static_cast<int>(state.range(0)), false);
  unsigned nr = 0;
  std::vector<double> us;
  for (auto _ : state) deny_then_allow(state, t.leaf, nr, us);
  percentiles(state, std::move(us));
  state.counters["groups"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_DenyLeafNoState)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->Iterations(2000);

// The baseline: one fsync of the state on the filesystem that holds the
// state databases (beside the mounts, in /tmp). Arg 0: one WAL frame (a
// header and a page) written over a file that already holds a WAL's worth
// of frames, at the next frame's place, + fdatasync: what a commit does in
// steady state (SQLite syncs with fdatasync and rewrites the WAL from its
// start after a checkpoint). Arg 1: the same appended (a WAL still growing:
// its size is journaled too). Arg 2: the smallest SQLite commit there is
// (one row updated, WAL, synchronous=FULL), warmed up past a checkpoint.
void BM_FsyncBaseline(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  const std::string path = tree(10, true).mount->state_path() + ".fsync-baseline";
  if (mode == 2) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0)",
                     nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error("sqlite: " + path);
    sqlite3_stmt* up = nullptr;
    sqlite3_prepare_v2(db, "UPDATE t SET v = v + 1 WHERE id = 1", -1, &up, nullptr);
    const auto commit = [&] {
      if (sqlite3_step(up) != SQLITE_DONE) throw std::runtime_error("sqlite update");
      sqlite3_reset(up);
    };
    for (int i = 0; i < 1200; ++i) commit();  // past the first checkpoint
    timed(state, commit);
    sqlite3_finalize(up);
    sqlite3_close(db);
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
    return;
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("open failed: " + path);
  constexpr std::size_t kFrame = 24 + 4096;
  constexpr off_t kFrames = 1000;  // a WAL's worth before a checkpoint
  static char frame[kFrame] = {};
  for (off_t i = 0; mode == 0 && i < kFrames; ++i)
    if (pwrite(fd, frame, kFrame, i * static_cast<off_t>(kFrame)) != static_cast<ssize_t>(kFrame))
      throw std::runtime_error("write failed: " + path);
  if (fsync(fd) != 0) throw std::runtime_error("fsync failed: " + path);
  off_t next = 0;
  timed(state, [&] {
    const off_t at = (mode == 0 ? next % kFrames : next) * static_cast<off_t>(kFrame);
    ++next;
    if (pwrite(fd, frame, 24, at) != 24 || pwrite(fd, frame + 24, 4096, at + 24) != 4096 || fdatasync(fd) != 0)
      throw std::runtime_error("write/sync failed: " + path);
  });
  close(fd);
  unlink(path.c_str());
}
BENCHMARK(BM_FsyncBaseline)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->Iterations(500);

// mkdir of a new group (timed; its rmdir is not) with the state saved,
// vs the groups in the tree.
void BM_Mkdir(benchmark::State& state) {
  auto& t = tree(static_cast<int>(state.range(0)), true);
  const auto dir = t.mount->path("new");
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (mkdir(dir.c_str(), 0755) != 0) throw std::runtime_error("mkdir failed");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    state.PauseTiming();
    rmdir(dir.c_str());
    state.ResumeTiming();
  }
  percentiles(state, std::move(us));
  state.counters["groups"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_Mkdir)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->Iterations(500);

// N writers, each denying and allowing in its own group, all saved: with
// group commit concurrent writes share fsyncs. Reports the writes per
// second of all writers and the p50/p99 of each write.
void BM_ParallelWriters(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  auto& m = *tree(10, true).mount;
  for (int w = 0; w < writers; ++w) mkdir(m.path(fmt::format("w{}", w)).c_str(), 0755);
  constexpr int kPerWriter = 200;
  std::vector<std::vector<double>> us(static_cast<std::size_t>(writers));
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
      threads.emplace_back([&, w] {
        const auto group = m.path(fmt::format("w{}", w));
        for (int i = 0; i < kPerWriter; ++i) {
          const auto file = group + (i % 2 ? "/syscalls.allow" : "/syscalls.deny");
          const auto s = Clock::now();
          write_file(file, fmt::format("{}\n", i / 2 % 200));
          us[static_cast<std::size_t>(w)].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - s).count());
        }
      });
    for (auto& th : threads) th.join();
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::vector<double> all;
  for (auto& v : us) all.insert(all.end(), v.begin(), v.end());
  state.counters["writes_per_s"] = static_cast<double>(all.size()) / seconds;
  percentiles(state, std::move(all));
}
BENCHMARK(BM_ParallelWriters)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// The report's rows (scripts/bench_report.py): a deny on a group with
// `descendants` groups below it, and the same with persistence off. Each
// timed deny is followed by an untimed allow of the number in that group
// (allow does not propagate: below it, the number stays denied).
void BM_DenyWrite(benchmark::State& state) {
  const auto dir = make_tree(fmt::format("deny{}", state.range(0)), static_cast<int>(state.range(0)));
  unsigned nr = 0;
  std::vector<double> us;
  for (auto _ : state) deny_then_allow(state, dir, nr, us);
  percentiles(state, std::move(us));
  state.counters["descendants"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_DenyWrite)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond)->Iterations(500);

void BM_DenyWriteNoState(benchmark::State& state) {
  const auto dir =
      make_tree(fmt::format("deny{}", state.range(0)), static_cast<int>(state.range(0)), mount_without_state());
  unsigned nr = 0;
  std::vector<double> us;
  for (auto _ : state) deny_then_allow(state, dir, nr, us);
  percentiles(state, std::move(us));
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
