// What membership costs a process, and what enforcement costs the daemon.
//
//  - Syscall overhead: a `getppid` loop in a forked child under no filter,
//    under the floor of any seccomp design (a one-instruction ALLOW filter),
//    and as a member of a group at depth 0..64 (one filter compiled from the
//    flattened set; and, "stacked", one more filter per level as if tightened
//    at every level). Also a denied call, and a ptrace-based filter.
//  - `syscg record`: the cost of one system call of a recorded program
//    (enforcer/recorder.h: a seccomp RET_TRACE stop per call), next to the
//    same program unrecorded.
//  - Through a real mount: a call routed to the supervisor (denied, and
//    allowed again), attach latency (write to cgroup.procs until the filter
//    is in: a first restriction, with its listener; a move that needs no new
//    filter), the same first restriction among 100, 1,000 and 3,000 idle
//    processes on the machine, and the time to tighten a group of 1, 10,
//    100 and 1,000 members.
// Filters are installed only in forked children and victims, never here.
#include "core/hierarchy.h"
#include "enforcer/bpf/compiler.h"
#include "enforcer/recorder.h"
#include "tests/support/mount.h"
#include "tests/support/proc.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <dirent.h>
#include <cstring>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using syscg::bpf::Program;
constexpr long kCallsPerIteration = 1000;

void install(const Program& p) {
  sock_fprog prog{static_cast<unsigned short>(p.size()), const_cast<sock_filter*>(p.data())};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    _exit(99);
}

// A forked child that, per request byte, makes kCallsPerIteration getppid
// calls and answers the elapsed nanoseconds.
class Caller {
 public:
  explicit Caller(const std::vector<Program>& filters, bool traceme = false) {
    if (pipe(req_) != 0 || pipe(resp_) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      if (traceme) {
        ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        raise(SIGSTOP);
      }
      for (const auto& f : filters) install(f);
      for (char c; read(req_[0], &c, 1) == 1;) {
        const auto t0 = Clock::now();
        for (long i = 0; i < kCallsPerIteration; ++i) syscall(SYS_getppid);
        const long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        if (write(resp_[1], &ns, sizeof ns) != sizeof ns) break;
      }
      _exit(0);
    }
  }
  ~Caller() {
    close(req_[1]);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    for (int fd : {req_[0], resp_[0], resp_[1]}) close(fd);
  }
  pid_t pid() const { return pid_; }
  void request() {
    if (write(req_[1], "x", 1) != 1) throw std::runtime_error("request");
  }
  bool ready() {
    pollfd p{resp_[0], POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }
  double answer_seconds() {
    long long ns = 0;
    if (read(resp_[0], &ns, sizeof ns) != sizeof ns) throw std::runtime_error("answer");
    return static_cast<double>(ns) / 1e9;
  }

 private:
  int req_[2], resp_[2];
  pid_t pid_;
};

void measure(benchmark::State& state, Caller& caller) {
  for (auto _ : state) {
    caller.request();
    state.SetIterationTime(caller.answer_seconds());
  }
  state.counters["calls_per_iter"] = kCallsPerIteration;
}

void measure(benchmark::State& state, const std::vector<Program>& filters) {
  Caller caller(filters);
  measure(state, caller);
}

// The set of a group at `depth` below the root, each level denying one more
// number (none of them getppid), and the set of every level on the way.
std::vector<syscg::SyscallSet> chain_sets(int depth) {
  syscg::Hierarchy h;
  std::vector<syscg::SyscallSet> sets;
  syscg::GroupId g = syscg::kRootGroup;
  for (int i = 1; i <= depth; ++i) {
    g = h.create(g, fmt::format("g{}", i)).value();
    syscg::SyscallSet s;
    (void)s.set(300 + static_cast<unsigned>(i) % 150);
    (void)h.deny(g, s);
    sets.push_back(h.allowed(g).value());
  }
  return sets;
}

void BM_NoFilter(benchmark::State& state) { measure(state, {}); }
BENCHMARK(BM_NoFilter)->UseManualTime();

void BM_AllowFilterFloor(benchmark::State& state) {
  measure(state, {Program{sock_filter{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}}});
}
BENCHMARK(BM_AllowFilterFloor)->UseManualTime();

void BM_Member(benchmark::State& state) {
  const auto sets = chain_sets(static_cast<int>(state.range(0)));
  std::vector<Program> filters;
  // Depth 0 is the root group: its members carry the clone guard alone.
  filters.push_back(syscg::bpf::compile(sets.empty() ? syscg::SyscallSet::all() : sets.back()).value());
  measure(state, filters);
  state.counters["filters"] = static_cast<double>(filters.size());
}
BENCHMARK(BM_Member)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->UseManualTime();

void BM_MemberStacked(benchmark::State& state) {
  std::vector<Program> filters;
  for (const auto& s : chain_sets(static_cast<int>(state.range(0)))) filters.push_back(syscg::bpf::compile(s).value());
  measure(state, filters);
  state.counters["filters"] = static_cast<double>(filters.size());
}
BENCHMARK(BM_MemberStacked)->Arg(1)->Arg(8)->Arg(64)->UseManualTime();

void BM_DeniedCall(benchmark::State& state) {
  syscg::SyscallSet s = syscg::SyscallSet::all();
  (void)s.reset(SYS_getppid);
  measure(state, {syscg::bpf::compile(s).value()});
}
BENCHMARK(BM_DeniedCall)->UseManualTime();

// The ptrace way (what the seed measured as ~100x slower): the tracer stops
// the member at every syscall entry and exit and checks the number.
void BM_PtraceFilter(benchmark::State& state) {
  Caller caller({}, true);
  int status = 0;
  waitpid(caller.pid(), &status, 0);  // the SIGSTOP
  ptrace(PTRACE_SETOPTIONS, caller.pid(), nullptr, reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD));
  for (auto _ : state) {
    caller.request();
    while (!caller.ready()) {
      if (ptrace(PTRACE_SYSCALL, caller.pid(), nullptr, nullptr) != 0) break;
      if (waitpid(caller.pid(), &status, 0) != caller.pid() || !WIFSTOPPED(status)) break;
      user_regs_struct regs{};
      ptrace(PTRACE_GETREGS, caller.pid(), nullptr, &regs);
      benchmark::DoNotOptimize(regs.orig_rax == SYS_execve);  // the policy check
    }
    state.SetIterationTime(caller.answer_seconds());
  }
  ptrace(PTRACE_DETACH, caller.pid(), nullptr, nullptr);
  state.counters["calls_per_iter"] = kCallsPerIteration;
}
BENCHMARK(BM_PtraceFilter)->UseManualTime()->Iterations(50);

// `syscg record`'s cost per call: `victim calls N` (N raw getppid calls)
// minus `victim calls 0`, each run plain (fork, exec, wait) or recorded
// (syscg::enforcer::record, this process the tracer); the iteration's time
// is that difference over N: one call. Before the mount's benchmarks, so
// that no daemon child of ours is alive while record() waits for any child.
void BM_RecordCall(benchmark::State& state) {
  const bool recorded = state.range(0) != 0;
  constexpr long kCalls = 20000;
  const auto run = [&](long calls) {
    const std::vector<std::string> argv{syscg::test::victim_binary(), "calls", std::to_string(calls)};
    const auto t0 = Clock::now();
    if (recorded) {
      const auto rec = syscg::enforcer::record(argv);
      if (!rec || rec.value().exit_status() != 0 ||
          rec.value().counts[SYS_getppid] != static_cast<std::uint64_t>(calls))
        throw std::runtime_error("record: " + (rec ? std::string("wrong counts") : rec.error().message));
    } else {
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("fork");
      if (pid == 0) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
      }
      int status = 0;
      if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("victim calls");
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  double sum = 0;
  for (auto _ : state) {
    const double per_call = std::max((run(kCalls) - run(0)) / kCalls, 1e-12);
    state.SetIterationTime(per_call);
    sum += per_call;
  }
  state.counters["ns_per_call"] = sum / static_cast<double>(state.iterations()) * 1e9;
  state.counters["calls_per_iter"] = kCalls;
}
BENCHMARK(BM_RecordCall)
    ->ArgName("recorded")
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kNanosecond);

// ---- Through a real mount ----

// Without persistence: these rows measure enforcement; fs_bench shows what
// saving the state before every reply adds.
syscg::test::Mount& mount() {
  static auto m = std::make_unique<syscg::test::Mount>(std::vector<std::string>{"-o", "state=none"});
  return *m;
}

// A new group directory per benchmark run (repetitions must not find the
// previous run's policy), created with `deny` when given.
std::string fresh_group(const std::string& prefix, const std::string& deny = "") {
  static int runs = 0;
  const auto g = mount().path(fmt::format("{}_{}", prefix, ++runs));
  mkdir(g.c_str(), 0755);
  if (!deny.empty()) {
    const int fd = open((g + "/syscalls.deny").c_str(), O_WRONLY);
    if (fd < 0 || write(fd, deny.data(), deny.size()) != static_cast<ssize_t>(deny.size()))
      throw std::runtime_error("deny " + deny);
    close(fd);
  }
  return g;
}

// `victim sleep` processes, killed and reaped on destruction. Constructed
// with `asleep`, it returns once each is blocked in nanosleep (read from
// /proc/PID/syscall): a target still in its dynamic loader would make an
// attach measure the loader's start-up too.
struct Victims {
  explicit Victims(int n, bool asleep = false) {
    for (int i = 0; i < n; ++i)
      children.emplace_back(std::vector<std::string>{syscg::test::victim_binary(), "sleep", "3600000"}, "/dev/null");
    if (!asleep) return;
    for (auto& c : children)
      if (!syscg::test::wait_for_syscall(c.pid(), {SYS_nanosleep, SYS_clock_nanosleep}))
        throw std::runtime_error(fmt::format("victim {} never slept", c.pid()));
  }
  std::vector<syscg::test::Child> children;
};

void write_file(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("write {} to {}: {}", text, path, std::strerror(errno)));
  close(fd);
}

// Times op() per iteration (manual time); setup() runs before, untimed.
template <class Op, class Setup = void (*)()>
void percentiles(
    benchmark::State& state, Op op, Setup setup = [] {}) {
  std::vector<double> us;
  for (auto _ : state) {
    setup();
    const auto t0 = Clock::now();
    op();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(s);
    us.push_back(s * 1e6);
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

// ---- A routed call: the supervisor's round trip, per call ----

// Every thread of `pid` (its /proc/PID/task) may run on `cpus` only; the
// threads it starts later inherit their creator's.
void pin_threads(pid_t pid, const cpu_set_t& cpus) {
  const auto dir = fmt::format("/proc/{}/task", pid);
  DIR* d = opendir(dir.c_str());
  if (!d) throw std::runtime_error("opendir " + dir);
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (sched_setaffinity(std::atoi(e->d_name), sizeof cpus, &cpus) != 0 && errno != ESRCH) {
      closedir(d);
      throw std::runtime_error(fmt::format("sched_setaffinity: {}", std::strerror(errno)));
    }
  }
  closedir(d);
}

cpu_set_t cpus_of(std::initializer_list<int> list) {
  cpu_set_t s;
  CPU_ZERO(&s);
  for (int c : list) CPU_SET(c, &s);
  return s;
}

// A forked child on `cpu` that, per request byte, makes kCallsPerIteration
// getppid calls, timing each one, and answers the times (ns).
class TimedCaller {
 public:
  explicit TimedCaller(int cpu) {
    if (pipe(req_) != 0 || pipe(resp_) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      const cpu_set_t one = cpus_of({cpu});
      if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(98);
      std::vector<long long> ns(kCallsPerIteration);
      for (char c; read(req_[0], &c, 1) == 1;) {
        for (auto& t : ns) {
          const auto t0 = Clock::now();
          syscall(SYS_getppid);
          t = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        }
        const auto bytes = static_cast<ssize_t>(ns.size() * sizeof ns[0]);
        if (write(resp_[1], ns.data(), bytes) != bytes) break;
      }
      _exit(0);
    }
  }
  TimedCaller(const TimedCaller&) = delete;
  TimedCaller& operator=(const TimedCaller&) = delete;
  ~TimedCaller() {
    close(req_[1]);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    for (int fd : {req_[0], resp_[0], resp_[1]}) close(fd);
  }
  pid_t pid() const { return pid_; }
  // One round of calls: appends each call's time (us) to `us`; returns the
  // round's total (s).
  double round(std::vector<double>& us) {
    if (write(req_[1], "x", 1) != 1) throw std::runtime_error("request");
    std::vector<long long> ns(kCallsPerIteration);
    auto* p = reinterpret_cast<char*>(ns.data());
    for (std::size_t got = 0, want = ns.size() * sizeof ns[0]; got < want;) {
      const ssize_t n = read(resp_[0], p + got, want - got);
      if (n <= 0) throw std::runtime_error("answer");
      got += static_cast<std::size_t>(n);
    }
    double total = 0;
    for (auto t : ns) {
      us.push_back(static_cast<double>(t) / 1e3);
      total += static_cast<double>(t) / 1e9;
    }
    return total;
  }

 private:
  int req_[2], resp_[2];
  pid_t pid_;
};

void set_percentiles(benchmark::State& state, std::vector<double> us, const std::string& prefix) {
  std::sort(us.begin(), us.end());
  if (us.empty()) return;
  state.counters[prefix + "p50_us"] = us[us.size() / 2];
  state.counters[prefix + "p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

// getppid routed to the supervisor: the member's first restriction denied
// it. allowed 0: still denied (answered EPERM); 1: allowed again (CONTINUE).
// placement 0: the caller and the whole daemon on this process's CPU (same
// core); 1: the caller on another CPU (cross core); 2: the caller on this
// CPU, the daemon free to run anywhere (where the kernel wakes it).
// Time: kCallsPerIteration calls; p50/p99: per call, each call timed (the
// clock reads included), and nofilter_*: the same loop in an unrestricted
// caller on the same CPU, in the same run.
void BM_SupervisedCall(benchmark::State& state) {
  const bool allowed_again = state.range(0) != 0;
  const int placement = static_cast<int>(state.range(1));
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) throw std::runtime_error("sched_getaffinity");
  int here = 0;
  while (!CPU_ISSET(here, &mine)) ++here;
  const int cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (placement == 1 && cpus < 2) {
    state.SkipWithError("one CPU: no cross-core placement");
    return;
  }
  const int caller_cpu = placement == 1 ? (here + 1) % cpus : here;
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c = 0; c < cpus; ++c) CPU_SET(c, &all);
  pin_threads(mount().daemon_pid(), placement == 2 ? all : cpus_of({here}));

  std::vector<double> base;
  {
    TimedCaller bare(caller_cpu);
    for (int i = 0; i < 20; ++i) bare.round(base);
  }
  const auto g = fresh_group("supervised");
  TimedCaller caller(caller_cpu);
  write_file(g + "/cgroup.procs", fmt::format("{}\n", caller.pid()));
  write_file(g + "/syscalls.deny", "getppid\n");
  if (allowed_again) write_file(g + "/syscalls.allow", "getppid\n");
  std::vector<double> us;
  for (auto _ : state) state.SetIterationTime(caller.round(us));
  pin_threads(mount().daemon_pid(), mine);
  set_percentiles(state, std::move(us), "");
  set_percentiles(state, std::move(base), "nofilter_");
  state.counters["calls_per_iter"] = kCallsPerIteration;
}
BENCHMARK(BM_SupervisedCall)->ArgNames({"allowed", "placement"})->ArgsProduct({{0, 1}, {0, 1, 2}})->UseManualTime();

// Arg 0: a process's first restriction (every thread stopped, a supervised
// filter and its listener installed): a fresh victim each time. Arg 1: a
// move between two groups with the same set (no new filter; no_new_privs
// only, which also proves the target can be reached).
void BM_Attach(benchmark::State& state) {
  const bool first = state.range(0) == 0;
  const auto a = fresh_group("attach", "uname\n"), b = fresh_group("attach", "uname\n");
  auto victims = std::make_unique<Victims>(1);
  int moves = 0;
  percentiles(
      state,
      [&] { write_file((++moves % 2 ? a : b) + "/cgroup.procs", fmt::format("{}\n", victims->children[0].pid())); },
      [&] {
        if (!first) return;
        victims = std::make_unique<Victims>(1, true);
      });
}
BENCHMARK(BM_Attach)->Arg(0)->Arg(1)->UseManualTime()->Iterations(300)->Unit(benchmark::kMicrosecond);

// N idle processes on the machine (blocked in pause(), no fd of ours),
// children of one nursery process rather than of this one (the writer). On
// SIGTERM the nursery kills and reaps them, then exits; they also die with
// it (PR_SET_PDEATHSIG) should this process die first.
struct Idle {
  explicit Idle(int n) {
    int ready[2];
    if (pipe(ready) != 0) throw std::runtime_error("pipe");
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    nursery = fork();
    if (nursery < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (nursery == 0) nurse(n, ready, term);
    close(ready[1]);
    char c;
    const bool ok = read(ready[0], &c, 1) == 1;
    close(ready[0]);
    if (!ok) throw std::runtime_error("the idle processes could not be made");
  }
  ~Idle() {
    kill(nursery, SIGTERM);
    waitpid(nursery, nullptr, 0);
  }
  Idle(const Idle&) = delete;
  Idle& operator=(const Idle&) = delete;

  [[noreturn]] static void nurse(int n, const int ready[2], const sigset_t& term) {
    close(ready[0]);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<pid_t> kids;
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        syscall(SYS_close_range, 3, ~0U, 0);
        for (;;) pause();
      }
      if (pid > 0) kids.push_back(pid);
    }
    (void)!write(ready[1], kids.size() == static_cast<std::size_t>(n) ? "r" : "", 1);
    close(ready[1]);
    int sig = 0;
    sigwait(&term, &sig);
    for (pid_t pid : kids) kill(pid, SIGKILL);
    for (pid_t pid : kids) waitpid(pid, nullptr, 0);
    _exit(0);
  }
  pid_t nursery = -1;
};

int processes_on_machine() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc"))
    n += std::isdigit(static_cast<unsigned char>(e.path().filename().string()[0])) ? 1 : 0;
  return n;
}

// A first restriction (BM_Attach/0) with N more idle processes on the
// machine: its cost must not grow with them.
void BM_AttachAmongTasks(benchmark::State& state) {
  Idle idle(static_cast<int>(state.range(0)));
  const auto g = fresh_group("among", "uname\n");
  // Measured in steady state: the daemon takes in the events of the
  // processes just made (and of the previous run's, just reaped) first:
  // reading cgroup.procs drains the tracker's, one untimed first
  // restriction the memory check's.
  std::ifstream(g + "/cgroup.procs").ignore(1 << 20);
  {
    Victims warm(1, true);
    write_file(g + "/cgroup.procs", fmt::format("{}\n", warm.children[0].pid()));
  }
  std::unique_ptr<Victims> victims;
  percentiles(
      state, [&] { write_file(g + "/cgroup.procs", fmt::format("{}\n", victims->children[0].pid())); },
      [&] { victims = std::make_unique<Victims>(1, true); });
  state.counters["processes"] = processes_on_machine();
}
BENCHMARK(BM_AttachAmongTasks)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(3000)
    ->UseManualTime()
    ->Iterations(1000)
    ->Unit(benchmark::kMicrosecond);

void BM_Tighten(benchmark::State& state) {
  const int members = static_cast<int>(state.range(0));
  const auto g = fresh_group("tighten");
  Victims victims(members);
  for (auto& c : victims.children) write_file(g + "/cgroup.procs", fmt::format("{}\n", c.pid()));
  unsigned nr = 0;
  percentiles(state, [&] { write_file(g + "/syscalls.deny", fmt::format("{}\n", 300 + nr++ % 100)); });
  state.counters["members"] = members;
}
BENCHMARK(BM_Tighten)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->UseManualTime()
    ->Iterations(40)
    ->Unit(benchmark::kMillisecond);

}  // namespace
