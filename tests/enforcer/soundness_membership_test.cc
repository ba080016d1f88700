// Attacks on the enforcer's soundness (issue 9). The members are
// tests/victims/attack (C, raw system calls); filters go into them only,
// never into the test runner. Races are run a bounded number of times and
// the invariant is checked on every attempt.
//
// Membership: a member cannot leave its group through a stale view of its
// children, through CLONE_PARENT or clone3; children from before a move stay
// outside.
#include "tests/support/soundness_fixture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// ================================================================ 1. stale view

// A child a member forks at once writes 0 to the root's cgroup.procs: its
// fork may not have been seen yet, but it is a member all the same.
TEST_F(SoundnessTest, StaleViewAFreshChildCannotLeave) {
  constexpr int kForks = 200;
  for (const bool self_join : {false, true}) {
    SCOPED_TRACE(self_join ? "the member moved itself in (echo $$ > g/cgroup.procs)" : "the test moved the member in");
    const std::string g = self_join ? "joined" : "moved";
    mkgroup(g, "uname");
    std::unique_ptr<Attacker> a;
    if (self_join) {
      a = std::make_unique<Attacker>(std::vector<std::string>{"join", procs(g), "serve"});
      ASSERT_EQ(a->read_line(), "joined ok");
      ASSERT_EQ(a->read_line(), "ready");
    } else {
      a = std::make_unique<Attacker>(std::vector<std::string>{"serve"});
      ASSERT_EQ(a->read_line(), "ready");
      ASSERT_MOVED(a->pid(), g);
    }
    ASSERT_EQ(a->ask("uname"), "uname EPERM");
    ASSERT_TRUE(a->send("forkleave " + procs("") + " " + std::to_string(kForks)));
    int left = 0, unames = 0, unlisted = 0;
    std::string example;
    for (int i = 0; i < kForks; ++i) {
      const std::string line = a->read_line(10s);
      ASSERT_TRUE(line.starts_with("child ")) << line;
      const pid_t c = std::atoi(line.c_str() + 6);
      const bool listed = contains(members(g), c);  // while it is alive
      const bool bad_write = field(line, "write") != "EPERM", bad_uname = field(line, "uname") != "EPERM";
      left += bad_write;
      unames += bad_uname;
      unlisted += !listed;
      if ((bad_write || bad_uname || !listed) && example.empty())
        example = "attempt " + std::to_string(i) + ": " + line + (listed ? "" : ", not listed in " + g);
      ASSERT_TRUE(a->send("next"));
    }
    EXPECT_EQ(a->read_line(10s), "forkleave done");
    EXPECT_EQ(left, 0) << left << " of " << kForks << " fresh children left " << g << " (write of 0 to the root's "
                       << "cgroup.procs not EPERM), e.g. " << example;
    EXPECT_EQ(unames, 0) << unames << " of " << kForks << " fresh children could call uname, e.g. " << example;
    EXPECT_EQ(unlisted, 0) << unlisted << " of " << kForks << " live children not listed in " << g << ", e.g. "
                           << example;
    EXPECT_EQ(members(""), std::vector<pid_t>{}) << "children moved themselves to the root";
  }
}

// While the test moves P into g, P keeps forking. Every child forked after
// the move returned, and every child listed in g/cgroup.procs, stays in.
TEST_F(SoundnessTest, StaleViewChildrenForkedAroundAMoveCannotLeave) {
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string g = std::string("g").append(std::to_string(round));  // see below: GCC 12 -Wrestrict
    mkgroup(g, "uname");
    Attacker p({"forkloop", procs("")});
    ASSERT_EQ(p.read_line(), "ready");
    ASSERT_TRUE(p.send("start"));
    std::set<pid_t> before;
    std::vector<std::string> afters, probes;
    auto take = [&](const std::string& line) {
      if (line.starts_with("before "))
        before.insert(std::atoi(line.c_str() + 7));
      else if (line.starts_with("after ") && line != "after-done")
        afters.push_back(line);
      else if (line.starts_with("probe "))
        probes.push_back(line);
      else if (line != "after-done")
        ADD_FAILURE() << "unexpected: " << line;
    };
    while (before.size() < 5 + static_cast<std::size_t>(round)) {
      const auto line = p.read_line();
      ASSERT_FALSE(line.starts_with("<")) << line;
      take(line);
    }
    ASSERT_MOVED(p.pid(), g);
    ASSERT_TRUE(p.send("moved"));
    const auto listed = members(g);
    EXPECT_TRUE(contains(listed, p.pid()));
    while (afters.size() < 50) {
      const auto line = p.read_line(10s);
      ASSERT_FALSE(line.starts_with("<")) << line << " after " << afters.size() << " children forked after the move";
      take(line);
    }
    // Children from around the move that g lists: each tries to leave now.
    std::vector<pid_t> asked;
    for (pid_t c : members(g))
      if (before.contains(c) && kill(c, SIGUSR1) == 0) asked.push_back(c);
    for (const pid_t c : listed)
      if (before.contains(c) && !contains(asked, c) && kill(c, SIGUSR1) == 0) asked.push_back(c);
    while (probes.size() < asked.size()) {
      const auto line = p.read_line(10s);
      if (line.starts_with("<")) break;
      take(line);
    }
    for (const auto& line : afters) {
      EXPECT_EQ(field(line, "write"), "EPERM") << "forked after the move returned, it left: " << line;
      EXPECT_EQ(field(line, "uname"), "EPERM") << line;
    }
    EXPECT_EQ(probes.size(), asked.size()) << "listed children that did not answer";
    for (const auto& line : probes) {
      EXPECT_EQ(field(line, "write"), "EPERM") << "listed in " << g << ", it left: " << line;
      EXPECT_EQ(field(line, "uname"), "EPERM") << line;
    }
    EXPECT_EQ(members(""), std::vector<pid_t>{}) << "members moved themselves to the root";
    p.send("stop");
    EXPECT_EQ(p.child().wait_for(5s), 0);
    if (HasFailure()) return;
  }
}

// The supervisor's answer for a child whose fork it may not have seen yet.
TEST_F(SoundnessTest, StaleViewTheSupervisorDeniesFreshChildren) {
  // Routed at the move (the group denied uname already), and routed at a
  // deny (the first restriction came with the deny).
  mkgroup("at-move", "uname");
  mkgroup("at-deny");
  Attacker a({"serve"}), b({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "at-move");
  ASSERT_MOVED(b.pid(), "at-deny");
  ASSERT_EQ(deny("at-deny", "uname"), 0);
  for (auto* v : {&a, &b}) {
    SCOPED_TRACE(v == &a ? "routed at the move" : "routed at the deny");
    ASSERT_EQ(v->ask("uname"), "uname EPERM");
    for (const std::string how : {"", " seq"}) {
      ASSERT_TRUE(v->send("forkprobe 200" + how));
      const auto r = v->read_line(60s);
      EXPECT_TRUE(r.starts_with("forkprobe ok=0 EPERM=200 other=0")) << "forkprobe 200" << how << ": " << r;
    }
  }
}

// ================================================================ 2. CLONE_PARENT, clone3

// A child the kernel attributes to someone else would not be a member.
// A root member of an open group pulls a process out of a stricter sibling
// group into its own (found by an attacker review): the source must lie in
// the writer's subtree too, as under cgroup namespaces.
TEST_F(SoundnessTest, AMemberCannotPullAProcessOutOfAGroupOutsideItsSubtree) {
  mkgroup("strict", "uname");
  mkgroup("open");
  Victim p({"serve"});
  ASSERT_EQ(p.read_line(), "ready");
  ASSERT_MOVED(p.pid(), "strict");
  ASSERT_EQ(p.ask("uname"), "uname EPERM");
  const auto r = sh("bash -c 'echo $$ > open/cgroup.procs; echo " + std::to_string(p.pid()) +
                    " > open/cgroup.procs; echo rc=$?' 2>&1");
  EXPECT_NE(r.output.find("rc=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Operation not permitted"), std::string::npos) << r.output;
  EXPECT_TRUE(contains(members("strict"), p.pid()));
  EXPECT_EQ(p.ask("uname"), "uname EPERM");
}

TEST_F(SoundnessTest, MembersCannotCloneWithCloneParent) {
  mkgroup("open");
  mkgroup("restricted", "uname");
  for (const std::string g : {"open", "restricted"}) {
    SCOPED_TRACE(g);
    Attacker a({"serve"});
    ASSERT_EQ(a.read_line(), "ready");
    ASSERT_MOVED(a.pid(), g);
    EXPECT_GE(filters(a.pid()), 1) << "every member carries a filter, also in a group that allows everything";
    EXPECT_EQ(status_field(a.pid(), "NoNewPrivs").value_or("?"), "1");
    for (const std::string call : {"clone_parent", "clone_parent_hi"}) {
      const auto r = a.ask(call);
      reap_reported(r);
      EXPECT_EQ(r, call + " EPERM") << "the child is reported as the test runner's, not listed in " << g;
    }
    const auto r = a.ask("clone3_parent");
    reap_reported(r);
    EXPECT_EQ(r, "clone3_parent ENOSYS");
    EXPECT_EQ(a.ask("nnp"), "nnp 1");
  }
}

TEST_F(SoundnessTest, Clone3IsENOSYSForMembersAndForkAndThreadsStillWork) {
  mkgroup("open");
  mkgroup("restricted", "uname");
  for (const std::string g : {"open", "restricted"}) {
    SCOPED_TRACE(g);
    Attacker a({"serve"});
    ASSERT_EQ(a.read_line(), "ready");
    EXPECT_EQ(a.ask("clone3_null"), "clone3_null EINVAL") << "outside any group: the kernel's own answer";
    ASSERT_MOVED(a.pid(), g);
    EXPECT_EQ(a.ask("clone3_null"), "clone3_null ENOSYS");
    EXPECT_EQ(a.ask("clone3"), "clone3 ENOSYS");
    EXPECT_EQ(a.ask("fork"), "fork ok") << "glibc falls back to clone on ENOSYS";
    EXPECT_EQ(a.ask("thread"), "thread ok");
    // Launched members too.
    const auto r = sh(syscg_binary() + " exec -m . " + g + " -- " + attack_binary() +
                      " probe clone_parent clone3_null clone3 fork thread nnp");
    EXPECT_EQ(r.output, "clone_parent EPERM\nclone3_null ENOSYS\nclone3 ENOSYS\nfork ok\nthread ok\nnnp 1\n");
  }
}

// ================================================================ 9. flaky before

// TighteningSoundnessTest.ChildrenFromBeforeAMoveStayOutside, 50 times.
TEST_F(SoundnessTest, ChildrenFromBeforeAMoveStayOutsideEveryTime) {
  int failures = 0;
  std::string first;
  for (int i = 0; i < 50; ++i) {
    // Appended: GCC 12 at -O3 reports a false -Werror=restrict for "g" + std::to_string(i).
    const std::string g = std::string("g").append(std::to_string(i));
    mkgroup(g);
    // (`sleep 30` is the object here, a process to look at, not a wait.)
    const auto r =
        sh("bash -c 'sleep 30 & S=$!\n"
           "    echo $$ > " +
           g +
           "/cgroup.procs\n"
           "    echo uname > " +
           g +
           "/syscalls.deny\n"
           "    grep -qx \"$S\" " +
           g +
           "/cgroup.procs && echo LISTED\n"
           "    grep Seccomp_filters /proc/$S/status\n"
           "    kill $S' 2>&1");
    const bool bad =
        r.output.find("LISTED") != std::string::npos || r.output.find("Seccomp_filters:\t0") == std::string::npos;
    if (bad && failures++ == 0) first = "iteration " + std::to_string(i) + ":\n" + r.output;
  }
  EXPECT_EQ(failures, 0) << failures << " of 50 iterations failed; the first, " << first;
}

}  // namespace
}  // namespace syscg::test
