// A controlled restart (`syscg restart`, fs/handoff.h) with N members, each
// holding a supervised filter whose listener is handed over: how long the
// restart takes from the request to the successor's "ok", and what a reader
// of the mount sees meanwhile. A thread opens, reads and closes
// g/cgroup.procs in a loop during every restart: `failed_reads` counts the
// reads that failed (ENOTCONN, ENOENT, ECONNABORTED, ...), `stall_max_ms`
// is its longest single read (a lookup or read waiting for a daemon).
#include "tests/support/mount.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void write_file(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("write failed: " + path);
  close(fd);
}

// Members: sleeping children, each moved into g (its first restriction
// routes getppid: one listener each). Killed and reaped by the destructor.
struct Members {
  std::vector<pid_t> pids;
  Members(int n, const std::string& procs) {
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        for (;;) pause();
      }
      pids.push_back(pid);
      write_file(procs, fmt::format("{}\n", pid));
    }
  }
  ~Members() {
    for (pid_t p : pids) kill(p, SIGKILL);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
  }
};

void BM_Restart(benchmark::State& state) {
  // The successors outlive their parents (each old daemon): we reap them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::vector<pid_t> successors;
  {
    auto mount = std::make_unique<syscg::test::Mount>();
    mkdir(mount->path("g").c_str(), 0755);
    write_file(mount->path("g/syscalls.deny"), "getppid\n");
    Members members(static_cast<int>(state.range(0)), mount->path("g/cgroup.procs"));
    const std::string procs = mount->path("g/cgroup.procs");
    const std::string restart = fmt::format("{} restart -m {}", syscg::test::syscg_binary(), mount->dir());
    std::vector<double> ms;
    double stall_max_ms = 0;
    long failed = 0, reads = 0;
    for (auto _ : state) {
      std::atomic<bool> stop{false};
      std::thread reader([&] {
        char buf[65536];
        while (!stop) {
          const auto t0 = Clock::now();
          const int fd = open(procs.c_str(), O_RDONLY | O_CLOEXEC);
          bool ok = fd >= 0 && read(fd, buf, sizeof buf) >= 0;
          if (fd >= 0) close(fd);
          stall_max_ms = std::max(stall_max_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          failed += ok ? 0 : 1;
          ++reads;
        }
      });
      const auto t0 = Clock::now();
      const auto r = syscg::test::sh(restart);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      stop = true;
      reader.join();
      if (r.status != 0) {
        state.SkipWithError(("syscg restart failed: " + r.output).c_str());
        break;
      }
      successors.push_back(std::atoi(r.output.c_str()));
    }
    std::sort(ms.begin(), ms.end());
    if (!ms.empty()) {
      state.counters["p50_ms"] = ms[ms.size() / 2];
      state.counters["max_ms"] = ms.back();
    }
    state.counters["stall_max_ms"] = stall_max_ms;
    state.counters["failed_reads"] = static_cast<double>(failed);
    state.counters["reads"] = static_cast<double>(reads);
  }  // unmounted: the last successor's loop ends
  for (pid_t s : successors) waitpid(s, nullptr, 0);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}
BENCHMARK(BM_Restart)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(10)->UseRealTime();

}  // namespace
