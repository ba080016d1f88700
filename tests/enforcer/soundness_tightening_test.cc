// Attacks on the enforcer's soundness (issue 9). The members are
// tests/victims/attack (C, raw system calls); filters go into them only,
// never into the test runner. Races are run a bounded number of times and
// the invariant is checked on every attempt.
//
// A tightening reaches everyone (fork-and-exit chains, threads beside a
// vfork, workers of an exited leader), and identities (recycled thread ids
// and pids) are never confused.
#include "tests/support/soundness_fixture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// ================================================================ 3. tightening reaches everyone

// Member A forks B and exits, B forks C and exits, ...: each link is an
// orphan for a moment. After a deny returned, every link calls uname from
// inside and must be refused; the last link is listed, and after an allow
// syscalls.stricter lists it if (and only if) it did not get uname back.
TEST_F(SoundnessTest, TighteningReachesAForkAndExitChain) {
  constexpr int kLinks = 50, kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    const bool restricted = round % 2 == 1;  // else the deny is the first restriction
    SCOPED_TRACE("round " + std::to_string(round) + (restricted ? ", getppid denied at the move" : ", open group"));
    const std::string g = "chain" + std::to_string(round);
    mkgroup(g, restricted ? "getppid" : "");
    Attacker l({"chain", std::to_string(kLinks), "4"});
    const auto first = l.read_line();
    ASSERT_TRUE(first.starts_with("member ")) << first;
    const pid_t a = std::atoi(first.c_str() + 7);
    ASSERT_MOVED(a, g);
    ASSERT_TRUE(l.send("go"));
    std::map<int, pid_t> links;
    std::vector<std::string> denied;
    std::string allowed;
    auto take = [&](const std::string& line) {
      const auto w = words(line);
      if (w.size() >= 3 && w[0] == "link")
        links[std::atoi(w[1].c_str())] = std::atoi(w[2].c_str());
      else if (w.size() >= 4 && w[0] == "denied")
        denied.push_back(line);
      else if (w.size() >= 4 && w[0] == "allowed")
        allowed = line;
      else
        ADD_FAILURE() << "unexpected: " << line;
    };
    while (links.size() < 8) {
      const auto line = l.read_line();
      ASSERT_FALSE(line.starts_with("<")) << line;
      take(line);
    }
    ASSERT_EQ(errno_name(deny(g, "uname")), "0");
    const std::size_t links_at_deny = links.size();
    ASSERT_TRUE(l.send("denied"));
    const std::string last_prefix = "denied " + std::to_string(kLinks - 1) + " ";
    while (denied.empty() || !denied.back().starts_with(last_prefix)) {
      const auto line = l.read_line(10s);
      ASSERT_FALSE(line.starts_with("<")) << line << "; links seen " << links.size();
      take(line);
    }
    EXPECT_EQ(links.size(), static_cast<std::size_t>(kLinks));
    std::vector<std::string> escaped;
    for (const auto& line : denied)
      if (field(line, "uname") != "EPERM") escaped.push_back(line);
    EXPECT_TRUE(escaped.empty()) << escaped.size() << " of " << denied.size()
                                 << " links called uname after the deny returned, e.g. " << escaped.front() << " .. "
                                 << escaped.back();
    EXPECT_LT(links_at_deny, static_cast<std::size_t>(kLinks)) << "the chain ended before the deny: nothing tested";
    const pid_t last = links[kLinks - 1];
    EXPECT_TRUE(contains(members(g), last)) << "the last link (" << last << ") descends from a member";

    ASSERT_EQ(errno_name(allow(g, "uname")), "0");
    ASSERT_TRUE(l.send("allowed"));
    while (allowed.empty()) {
      const auto line = l.read_line(10s);
      ASSERT_FALSE(line.starts_with("<")) << line;
      take(line);
    }
    const bool got_back = field(allowed, "uname") == "ok";
    bool reported = false;
    for (const auto& line : split(stricter(g), '\n')) {
      const auto w = words(line);
      if (w.size() >= 2 && w[0] == std::to_string(last))
        for (const auto& n : split(w[1], ','))
          if (n == "63") reported = true;
    }
    EXPECT_EQ(reported, !got_back) << allowed << "; syscalls.stricter:\n" << stricter(g);
    l.close_stdin();
    EXPECT_GE(l.child().wait_for(5s), 0);
    if (HasFailure()) return;
  }
}

// A member's main thread is blocked in vfork (it cannot be stopped) while
// another thread runs: the deny returns, and the running thread is refused
// from then on, long before the vfork child ends.
TEST_F(SoundnessTest, TighteningReachesAThreadWhileTheMainThreadIsInVfork) {
  for (const bool restricted : {false, true}) {
    SCOPED_TRACE(restricted ? "getppid denied at the move" : "open group: the deny is the first restriction");
    const std::string g = restricted ? "restricted" : "open";
    mkgroup(g, restricted ? "getppid" : "");
    Attacker v({"vforkthread"});
    ASSERT_EQ(v.read_line(), "ready");
    ASSERT_MOVED(v.pid(), g);
    ASSERT_EQ(v.ask("uname"), "uname ok");
    ASSERT_TRUE(v.send("vfork 3000"));
    const auto vforked = Clock::now();
    ASSERT_TRUE(wait_for_state(v.pid(), 'D')) << "the main thread never blocked in vfork";
    EXPECT_EQ(errno_name(deny(g, "uname")), "0");
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - vforked);
    EXPECT_LT(took.count(), 2500) << "the deny returned only " << took.count() << " ms after the vfork";
    EXPECT_EQ(v.ask("uname"), "uname EPERM")
        << "(\"vfork-done\" here: the answer came only after the vfork child ended)";
    EXPECT_EQ(v.read_line(6s), "vfork-done");
    EXPECT_EQ(v.ask("uname"), "uname EPERM");
    v.close_stdin();
    EXPECT_EQ(v.child().wait_for(5s), 0);
    release_from_daemon(v.child());
    if (HasFailure() || !mount_) return;
  }
}

// The main thread called pthread_exit (a zombie leader, which ptrace cannot
// attach to) while two workers run: a deny reaches both workers.
TEST_F(SoundnessTest, TighteningReachesWorkersAfterTheMainThreadExited) {
  for (const bool restricted : {false, true}) {
    SCOPED_TRACE(restricted ? "getppid denied at the move" : "open group: the deny is the first restriction");
    const std::string g = restricted ? "restricted" : "open";
    mkgroup(g, restricted ? "getppid" : "");
    Attacker v({"leaderexit"});
    ASSERT_EQ(v.read_line(), "ready");
    ASSERT_MOVED(v.pid(), g);
    EXPECT_EQ(v.ask("report"), "ok ok");
    ASSERT_EQ(v.ask("exitleader"), "exitleader ok");
    const auto deadline = Clock::now() + 5s;
    while (!is_zombie_leader(v.pid()) && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
    ASSERT_TRUE(is_zombie_leader(v.pid())) << "the main thread did not exit";
    EXPECT_EQ(errno_name(deny(g, "uname")), "0");
    EXPECT_EQ(v.ask("report"), "EPERM EPERM");
    EXPECT_TRUE(contains(members(g), v.pid())) << "its workers still run";
    v.send("exitall");
    EXPECT_EQ(v.child().wait_for(5s), 0);
    release_from_daemon(v.child());
    if (HasFailure() || !mount_) return;
  }
}

// ================================================================ 4. identities

// M (group loose, uname routed and allowed) ends: its leader first, then its
// last worker. N (group strict, uname routed and denied) gets a thread whose
// thread id is M's old pid: that thread is N's, and is refused.
TEST_F(SoundnessTest, ARecycledThreadIdIsDecidedByItsOwnProcess) {
  mkgroup("loose");
  mkgroup("strict", "uname");
  Attacker n({"serve"});
  ASSERT_EQ(n.read_line(), "ready");
  ASSERT_MOVED(n.pid(), "strict");
  ASSERT_EQ(n.ask("uname"), "uname EPERM");
  int recycled = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Attacker m({"leaderexit"});
    ASSERT_EQ(m.read_line(), "ready");
    ASSERT_EQ(deny("loose", "uname"), 0);
    ASSERT_MOVED(m.pid(), "loose");  // its first restriction: uname routed
    ASSERT_EQ(allow("loose", "uname"), 0);
    ASSERT_EQ(m.ask("report"), "ok ok") << "routed and allowed";
    ASSERT_EQ(m.ask("exitleader"), "exitleader ok");
    const auto deadline = Clock::now() + 5s;
    while (!is_zombie_leader(m.pid()) && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
    ASSERT_TRUE(m.send("exitall"));
    ASSERT_EQ(m.child().wait_for(5s), 0) << "M did not end";  // reaped: its pid is free
    const pid_t old = m.pid();
    ASSERT_TRUE(n.send("tidat " + std::to_string(old)));
    const auto r = n.read_line(20s);
    if (r.ends_with(" failed")) continue;  // another process took the pid first
    ++recycled;
    EXPECT_TRUE(r.starts_with("tidat " + std::to_string(old) + " uname=EPERM ")) << r;
  }
  EXPECT_GT(recycled, 0) << "no round got a thread with the old pid";
}

// The pid a cgroup.procs write names is recycled between identifying it
// and seizing it (the daemon holds there for a test-only environment
// variable): the write fails with ESRCH and the new process is untouched.
TEST_F(SoundnessTest, ARecycledPidDuringACgroupProcsWriteIsNotSeized) {
  constexpr int kHoldMs = 2000;
  setenv("SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS", std::to_string(kHoldMs).c_str(), 1);
  std::unique_ptr<Mount> held;
  try {
    held = std::make_unique<Mount>();
  } catch (const std::exception& e) {
    unsetenv("SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS");
    FAIL() << e.what();
  }
  unsetenv("SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS");
  ASSERT_EQ(::mkdir(held->path("g").c_str(), 0755), 0);
  ASSERT_EQ(write_file(held->path("g/syscalls.deny"), "uname\n"), 0);
  bool tested = false;
  for (int attempt = 0; attempt < 5 && !tested; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    auto t = std::make_unique<Victim>(std::vector<std::string>{"serve"});
    ASSERT_EQ(t->read_line(), "ready");
    const pid_t tp = t->pid();
    std::atomic<int> result{-1};
    std::atomic<bool> done{false};
    std::thread writer([&] {
      result = write_file(held->path("g/cgroup.procs"), std::to_string(tp) + "\n");
      done = true;
    });
    // Until the daemon has identified tp and holds (a daemon thread asleep
    // in the test-only hold), or the write returned without any hold.
    const auto holds = [&] {
      for (pid_t task : numeric_entries("/proc/" + std::to_string(held->daemon_pid()) + "/task"))
        if (const long nr =
                blocked_syscall("/proc/" + std::to_string(held->daemon_pid()) + "/task/" + std::to_string(task));
            nr == SYS_nanosleep || nr == SYS_clock_nanosleep)
          return true;
      return false;
    };
    for (const auto until = Clock::now() + 1500ms; !done && !holds() && Clock::now() < until;)
      std::this_thread::sleep_for(1ms);
    // A process is told apart by its start time, in clock ticks: tp's next
    // owner must start in a later tick than tp did, or it is the same
    // process by that identity (a bounded wait, a tick or two).
    const unsigned long long tp_start = proc_stat(tp) ? proc_stat(tp)->start_time : 0;
    const auto ticks_now = [] {
      timespec ts{};
      clock_gettime(CLOCK_BOOTTIME, &ts);
      const auto hz = static_cast<unsigned long long>(sysconf(_SC_CLK_TCK));
      return static_cast<unsigned long long>(ts.tv_sec) * hz +
             static_cast<unsigned long long>(ts.tv_nsec) * hz / 1000000000ULL;
    };
    for (const auto until = Clock::now() + 1s; !done && ticks_now() <= tp_start + 1 && Clock::now() < until;)
      std::this_thread::sleep_for(1ms);
    if (done) {
      writer.join();
      FAIL() << "the write returned (" << errno_name(result) << ") before any hold: the daemon does not honour "
             << "SYSCGFS_TEST_HOLD_BEFORE_SEIZE_MS";
    }
    t->child().kill(SIGKILL);
    ASSERT_EQ(t->child().wait_for(2s), 128 + SIGKILL);
    t.reset();
    std::unique_ptr<Victim> r;
    for (int i = 0; i < 300 && !done && !r; ++i) {
      std::ofstream("/proc/sys/kernel/ns_last_pid") << tp - 1 << std::flush;
      auto c = std::make_unique<Victim>(std::vector<std::string>{"serve"});
      if (c->pid() == tp) r = std::move(c);
    }
    writer.join();
    if (!r) continue;  // the pid went to someone else, or the hold ended first
    tested = true;
    EXPECT_EQ(errno_name(result), errno_name(ESRCH));
    ASSERT_EQ(r->read_line(), "ready");
    EXPECT_EQ(filters(r->pid()), 0);
    EXPECT_EQ(tracer_pid(r->pid()), "0");
    EXPECT_EQ(status_field(r->pid(), "NoNewPrivs").value_or("?"), "0");
    EXPECT_EQ(read_file(held->path("g/cgroup.procs")), "");
    EXPECT_EQ(r->ask("uname"), "uname ok");
  }
  EXPECT_TRUE(tested) << "the pid could not be recycled within the hold";
  EXPECT_EQ(held->log_errors(), "");
}

}  // namespace
}  // namespace syscg::test
