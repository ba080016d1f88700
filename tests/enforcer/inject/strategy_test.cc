// The per-process injection strategy against a fake target: every fallback
// of inject_process (enforcer/inject/strategy.h) and of the install
// sequence (install.h), without a process or ptrace.
#include "enforcer/inject/install.h"
#include "enforcer/inject/pending.h"
#include "enforcer/inject/strategy.h"
#include "fake_target.h"

#include <gtest/gtest.h>

#include <linux/seccomp.h>

namespace syscg::enforcer::inject {
namespace {

using testing::FakeTarget;
using testing::FakeThread;

constexpr pid_t kPid = 100;

Program program_of(std::uint32_t action) { return {BPF_STMT(BPF_RET | BPF_K, action)}; }

class StrategyTest : public ::testing::Test {
 protected:
  const Program plain = program_of(SECCOMP_RET_ERRNO | 1);
  const Program supervised = program_of(SECCOMP_RET_USER_NOTIF);
  FakeTarget target{kPid};
  Pending pending;
  std::vector<bool> interrupted;  // after_interrupt's outcomes

  Result<Injection> run(const Program* sup = nullptr, bool defer = false, bool probe = false,
                        std::optional<pid_t> self = std::nullopt,
                        Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5)) {
    const Request req{plain, sup, self, deadline, defer, probe};
    return inject_process(target, pending, req, [&](const Status& s) { interrupted.push_back(static_cast<bool>(s)); });
  }
  static bool holds(const testing::FakeThreadState& t, const Program& p) {
    for (const auto& f : t.chain)
      if (f.size() == p.size() && std::memcmp(f.data(), p.data(), p.size() * sizeof(sock_filter)) == 0) return true;
    return false;
  }
  // Restored and out of the window: EXITKILL off, registers back, let go.
  static void expect_clean(const testing::FakeThreadState& t) {
    EXPECT_FALSE(t.in_window);
    EXPECT_FALSE(t.exitkill);
    EXPECT_FALSE(t.killed);
    EXPECT_TRUE(t.released);
  }
};

TEST_F(StrategyTest, TsyncFromOneThreadReportsTheChildren) {
  auto& leader = target.add(kPid);
  target.children_set = {200, 201};
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::none);
  EXPECT_EQ(r.value().unfiltered, (std::vector<pid_t>{200, 201}));
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_TRUE(leader.nnp);
  ASSERT_EQ(leader.seccomp_flags.size(), 1u);
  EXPECT_EQ(leader.seccomp_flags[0], SECCOMP_FILTER_FLAG_TSYNC);
  expect_clean(leader);
  EXPECT_EQ(interrupted, std::vector<bool>{true});
}

TEST_F(StrategyTest, SupervisedFilterHandsTheListenerOverAndClosesTheTargetsCopy) {
  auto& leader = target.add(kPid);
  target.add(kPid + 1);
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::none);
  EXPECT_TRUE(r.value().listener);
  EXPECT_FALSE(leader.fds.contains(FakeThread::kListenerFd));  // closed in the target
  EXPECT_TRUE(holds(leader, supervised));
  EXPECT_FALSE(holds(leader, plain));
  EXPECT_EQ(leader.dumpable, 1);  // restored after the listener left
  ASSERT_EQ(leader.seccomp_flags.size(), 1u);
  EXPECT_EQ(leader.seccomp_flags[0],
            SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
  expect_clean(leader);
}

TEST_F(StrategyTest, EbusyListenerInTheChainFallsBackToThePlainFilter) {
  auto& leader = target.add(kPid);
  leader.listener_seccomp_rc = -EBUSY;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::own_listener);
  EXPECT_FALSE(r.value().listener);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_FALSE(holds(leader, supervised));
  EXPECT_EQ(leader.dumpable, 1);  // dumpable again: no listener came
  ASSERT_EQ(leader.seccomp_flags.size(), 2u);
  EXPECT_EQ(leader.seccomp_flags[1], SECCOMP_FILTER_FLAG_TSYNC);
  expect_clean(leader);
}

TEST_F(StrategyTest, EinvalOldKernelWithoutTsyncEsrchFallsBackToThePlainFilter) {
  auto& leader = target.add(kPid);
  leader.listener_seccomp_rc = -EINVAL;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::unsupported);
  EXPECT_TRUE(holds(leader, plain));
  expect_clean(leader);
}

TEST_F(StrategyTest, EpermListenerRefusedFallsBackToThePlainFilter) {
  auto& leader = target.add(kPid);
  leader.listener_seccomp_rc = -EPERM;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::refused);
  EXPECT_TRUE(holds(leader, plain));
}

TEST_F(StrategyTest, AProcessInAnotherUserNamespaceGetsThePlainFilterAndNoListenerIsMade) {
  // That namespace's owner holds CAP_SYS_PTRACE over it: non-dumpable does
  // not keep it from the private thread's table.
  auto& leader = target.add(kPid);
  target.foreign_user_namespace = true;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::user_namespace);
  EXPECT_FALSE(r.value().listener);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_FALSE(holds(leader, supervised));
  ASSERT_EQ(leader.seccomp_flags.size(), 1u);
  EXPECT_EQ(leader.seccomp_flags[0], SECCOMP_FILTER_FLAG_TSYNC);  // never NEW_LISTENER
  expect_clean(leader);
}

TEST_F(StrategyTest, EsrchDivergingThreadsGetThePlainFilterOneByOne) {
  auto& leader = target.add(kPid);
  auto& other = target.add(kPid + 1);
  leader.listener_seccomp_rc = -ESRCH;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::threads_diverged);
  // No TSYNC attempt after ESRCH: each thread gets its own, without TSYNC.
  ASSERT_EQ(leader.seccomp_flags.size(), 2u);
  EXPECT_EQ(leader.seccomp_flags[1], 0u);
  ASSERT_EQ(other.seccomp_flags.size(), 1u);
  EXPECT_EQ(other.seccomp_flags[0], 0u);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_TRUE(holds(other, plain));
  expect_clean(leader);
  expect_clean(other);
}

TEST_F(StrategyTest, TsyncNamingADivergingThreadIsRefusedByTheReadBack) {
  // TSYNC without a listener answers the id of a thread whose chain
  // diverges, and installs nothing. Today the read-back check sees no new
  // filter and refuses (permission) before the per-thread fallback below
  // it is reached.
  auto& leader = target.add(kPid);
  target.add(kPid + 1);
  leader.tsync_rc = kPid + 1;
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::permission);
  EXPECT_TRUE(leader.chain.empty());
  expect_clean(leader);
}

TEST_F(StrategyTest, AThreadGoneMidWayIsDropped) {
  auto& leader = target.add(kPid);
  auto& gone = target.add(kPid + 1);
  gone.exits = true;  // exits before its stop
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::none);
  EXPECT_TRUE(r.value().listener);
  EXPECT_TRUE(holds(leader, supervised));
  EXPECT_TRUE(gone.chain.empty());
}

TEST_F(StrategyTest, AThreadGoneBeforeItsSeizeIsSkipped) {
  auto& leader = target.add(kPid);
  target.add(kPid + 1);
  target.seize_fails[kPid + 1] = Errc::no_process;
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(holds(leader, plain));
}

TEST_F(StrategyTest, AProcessWhoseThreadsAllExitedIsNoProcess) {
  target.add(kPid).exits = true;
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::no_process);
}

TEST_F(StrategyTest, ASeizeRefusedIsReportedBeforeTheWait) {
  target.add(kPid);
  target.seize_fails[kPid] = Errc::busy;  // another tracer
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::busy);
  EXPECT_EQ(interrupted, std::vector<bool>{false});
}

TEST_F(StrategyTest, AThreadThatWillNotStopFailsWithLimitPastTheDeadline) {
  auto& leader = target.add(kPid);
  leader.stops = false;
  auto r = run(nullptr, false, false, std::nullopt, std::chrono::steady_clock::now());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::limit);
  EXPECT_EQ(pending.deferred(), 0u);
}

TEST_F(StrategyTest, AThreadThatWillNotStopIsDeferredAndFilteredAtItsStop) {
  auto& leader = target.add(kPid);
  leader.stops = false;
  auto r = run(&supervised, true, false, std::nullopt, std::chrono::steady_clock::now());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::not_stopped);
  EXPECT_EQ(pending.deferred(), 1u);
  EXPECT_FALSE(leader.released);  // held until it stops
  sys::MemoryLog log;
  EXPECT_TRUE(pending.finish(log));  // still running
  leader.stops = true;
  EXPECT_FALSE(pending.finish(log));
  EXPECT_TRUE(holds(leader, plain));  // the plain filter: no listener for a deferred target
  EXPECT_FALSE(holds(leader, supervised));
  expect_clean(leader);
  EXPECT_TRUE(log.lines().empty());
}

TEST_F(StrategyTest, ADeferredFilterThatFailsKillsTheTargetAndSaysSo) {
  auto& leader = target.add(kPid);
  leader.stops = false;
  leader.seccomp_rc = -ENOMEM;
  ASSERT_TRUE(run(nullptr, true, false, std::nullopt, std::chrono::steady_clock::now()));
  leader.stops = true;
  sys::MemoryLog log;
  pending.finish(log);
  EXPECT_TRUE(leader.killed);
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_NE(log.lines()[0].find("deferred filter for 100 failed"), std::string::npos) << log.lines()[0];
}

// A deferred tightening was acknowledged: when the tracer stops before the
// target does, the target is killed, never let go unfiltered.
TEST_F(StrategyTest, ADeferredTargetIsKilledWhenTheTracerStops) {
  auto& leader = target.add(kPid);
  leader.stops = false;
  ASSERT_TRUE(run(nullptr, true, false, std::nullopt, std::chrono::steady_clock::now()));
  ASSERT_EQ(pending.deferred(), 1u);
  sys::MemoryLog log;
  pending.drop(log);
  EXPECT_TRUE(leader.killed);
  EXPECT_EQ(pending.deferred(), 0u);
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_NE(log.lines()[0].find("not installed before shutdown"), std::string::npos) << log.lines()[0];
}

TEST_F(StrategyTest, AnIoUringProbeIsNeverDeferred) {
  target.add(kPid).stops = false;
  auto r = run(nullptr, true, true, std::nullopt, std::chrono::steady_clock::now());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::limit);
  EXPECT_EQ(pending.deferred(), 0u);
}

TEST_F(StrategyTest, ASupervisedTargetWithAThreadThatWillNotStopGetsThePlainFilter) {
  auto& leader = target.add(kPid);
  auto& stuck = target.add(kPid + 1);
  stuck.stops = false;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::not_stopped);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_FALSE(holds(leader, supervised));
  EXPECT_EQ(leader.seccomp_flags, std::vector<std::uint64_t>{SECCOMP_FILTER_FLAG_TSYNC});
}

TEST_F(StrategyTest, TheListenerIsCreatedInAPrivateThreadThatThenExits) {
  auto& leader = target.add(kPid);
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r.value().listener);
  ASSERT_TRUE(leader.spawned);
  // The seccomp call ran in the private thread, whose table held the
  // listener; the process's own table never did.
  EXPECT_EQ(leader.spawned->calls, (std::vector<long>{SYS_seccomp, SYS_exit}));
  EXPECT_FALSE(leader.spawned->attached);  // exited
  EXPECT_FALSE(leader.spawned->killed);
  EXPECT_FALSE(leader.fds.contains(FakeThread::kListenerFd));
  expect_clean(leader);
}

TEST_F(StrategyTest, ASharedMemoryGetsNoListener) {
  auto& leader = target.add(kPid);
  target.memory_shared = true;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::shared_memory);
  EXPECT_FALSE(r.value().listener);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_FALSE(leader.spawned);  // no listener was ever made
  EXPECT_EQ(leader.seccomp_flags, std::vector<std::uint64_t>{SECCOMP_FILTER_FLAG_TSYNC});
  expect_clean(leader);
}

TEST_F(StrategyTest, ACloneRefusedGivesNoListenerAndThePlainFilter) {
  auto& leader = target.add(kPid);
  leader.spawn_rc = -EAGAIN;  // RLIMIT_NPROC, pids.max, or a filter of its own
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::no_thread);
  EXPECT_FALSE(r.value().listener);
  EXPECT_TRUE(holds(leader, plain));
  EXPECT_FALSE(holds(leader, supervised));
  EXPECT_EQ(leader.dumpable, 1);
  expect_clean(leader);
}

TEST_F(StrategyTest, AKernelWithoutPidfdThreadGivesNoListener) {
  auto& leader = target.add(kPid);
  leader.spawn_rc = -EINVAL;
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::unsupported);
  EXPECT_TRUE(holds(leader, plain));
  expect_clean(leader);
}

TEST_F(StrategyTest, APrivateThreadThatDoesNotExitKillsTheProcess) {
  auto& leader = target.add(kPid);
  leader.exit_rc = -EPERM;  // a filter of its own refuses exit
  auto r = run(&supervised);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::permission);
  EXPECT_NE(r.error().message.find("killed the process"), std::string::npos);
  ASSERT_TRUE(leader.spawned);
  EXPECT_TRUE(leader.spawned->killed);
}

TEST_F(StrategyTest, AFakedExitOfThePrivateThreadKillsTheProcess) {
  auto& leader = target.add(kPid);
  leader.exit_rc = 0;  // ERRNO(0): exit "succeeds", the thread stays
  auto r = run(&supervised);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::permission);
  ASSERT_TRUE(leader.spawned);
  EXPECT_TRUE(leader.spawned->killed);
}

TEST_F(StrategyTest, AnEpermDumpableOffGivesNoListenerAndThePlainFilter) {
  auto& leader = target.add(kPid);
  leader.dumpable = -EINVAL;  // PR_GET_DUMPABLE refused (a filter of its own)
  auto r = run(&supervised);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().why, NoListener::refused);
  EXPECT_TRUE(holds(leader, plain));
}

TEST_F(StrategyTest, ARestoreThatFailsKillsTheTarget) {
  auto& leader = target.add(kPid);
  leader.restore_fails = true;
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid);
  EXPECT_TRUE(leader.killed);
}

TEST_F(StrategyTest, ExitkillThatCannotBeResetFailsTheInjection) {
  auto& leader = target.add(kPid);
  leader.close_window_errno = EIO;
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno, EIO);
}

TEST_F(StrategyTest, ExitkillResetOnAThreadAlreadyGoneIsNotAnError) {
  auto& leader = target.add(kPid);
  leader.close_window_errno = ESRCH;
  EXPECT_TRUE(run());
}

TEST_F(StrategyTest, AnEndedPinTouchesNothing) {
  auto& leader = target.add(kPid);
  target.has_ended = true;
  auto r = run(&supervised);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::no_process);
  EXPECT_TRUE(leader.chain.empty());
  EXPECT_FALSE(leader.nnp);
}

TEST_F(StrategyTest, AThreadWithAnIoUringContextIsBusyAndNothingIsInstalled) {
  auto& leader = target.add(kPid);
  auto& other = target.add(kPid + 1);
  other.io_uring_rc = -EBADF;  // a context, empty slot
  auto r = run(nullptr, false, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::busy);
  EXPECT_TRUE(leader.chain.empty());
  EXPECT_TRUE(other.chain.empty());
  expect_clean(leader);
}

TEST_F(StrategyTest, AFilterThatDoesNotAllowTheProbeCountsAsAContext) {
  auto& leader = target.add(kPid);
  leader.chain.push_back(program_of(SECCOMP_RET_ERRNO | EINVAL));  // would fake "no context"
  auto r = run(nullptr, false, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::busy);
}

TEST_F(StrategyTest, WithoutIoUringTheProbePassesAndTheFilterGoesIn) {
  auto& leader = target.add(kPid);
  auto r = run(nullptr, false, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(holds(leader, plain));
}

TEST_F(StrategyTest, ASelfMoveSeizesOnlyTheWriter) {
  target.add(kPid);
  auto& writer = target.add(kPid + 1);
  auto r = run(nullptr, false, false, kPid + 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(holds(writer, plain));
  EXPECT_TRUE(target.thread(kPid).chain.empty());  // TSYNC's job in the kernel, not seized here
  EXPECT_EQ(interrupted, std::vector<bool>{true});
}

TEST_F(StrategyTest, TheThreadWithTheShortestChainInstalls) {
  auto& leader = target.add(kPid);
  auto& other = target.add(kPid + 1);
  leader.chain.push_back(program_of(SECCOMP_RET_ALLOW));  // a filter of its own
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(holds(other, plain));
  EXPECT_EQ(leader.chain.size(), 1u);
}

TEST_F(StrategyTest, SeccompFailingIsAnErrorWithItsKind) {
  target.add(kPid).seccomp_rc = -ENOMEM;
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::limit);
}

TEST_F(StrategyTest, AFilterMissingFromTheChainAfterSuccessIsRefused) {
  // A listener of its own answers "done" for seccomp, or another thread
  // slipped a filter in: the chain read back must hold ours, or install()
  // refuses.
  FakeThread t(std::make_shared<testing::FakeThreadState>());
  struct Liar final : Thread {
    FakeThread& real;
    explicit Liar(FakeThread& r) : real(r) {}
    pid_t tid() const override { return real.tid(); }
    bool attached() const override { return real.attached(); }
    Status interrupt() override { return real.interrupt(); }
    Result<bool> poll_stop() override { return real.poll_stop(); }
    Status wait_stop(Deadline d) override { return real.wait_stop(d); }
    Result<SeccompState> seccomp_state() override { return real.seccomp_state(); }
    Result<std::vector<Program>> filters() override { return real.filters(); }
    Result<Program> filter(unsigned) override { return make_error(Errc::not_found, "ENOENT"); }
    Result<std::uint64_t> open_window(std::span<const unsigned char> i) override { return real.open_window(i); }
    Status write(std::uint64_t a, const void* d, std::size_t l) override { return real.write(a, d, l); }
    Result<long> call(long nr, std::uint64_t a0, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3, int s) override {
      return real.call(nr, a0, a1, a2, a3, s);
    }
    Status restore() override { return real.restore(); }
    Status close_window() override { return real.close_window(); }
    Result<Spawned> spawn_private(pid_t g) override { return real.spawn_private(g); }
    sys::UniqueFd take_fd(int fd) override { return real.take_fd(fd); }
    void kill() override { real.kill(); }
  } liar(t);
  auto r = install(liar, plain, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::permission);
}

}  // namespace
}  // namespace syscg::enforcer::inject
