// The enforcer's threads and handles without any filter: the supervisor's
// lifecycle and refusals, the tracker's pidfd pins on a child of the test
// (nothing is traced, nothing installs a filter). Lines go to a MemoryLog.
#include "enforcer/process_tracker.h"
#include "enforcer/procfs.h"
#include "enforcer/supervisor.h"
#include "enforcer/sys/log.h"

#include <gtest/gtest.h>

#include <csignal>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace syscg::enforcer {
namespace {

TEST(SupervisorTest, AListenerIsRefusedBeforeStart) {
  sys::MemoryLog log;
  SharedMutex barrier;
  Supervisor supervisor(
      log, [](pid_t, unsigned) { return false; }, barrier);
  sys::UniqueFd fd(eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(fd);
  auto added = supervisor.add(std::move(fd));
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, Errc::io);
}

TEST(SupervisorTest, StartsAndStopsWithoutALine) {
  sys::MemoryLog log;
  SharedMutex barrier;
  {
    Supervisor supervisor(
        log, [](pid_t, unsigned) { return false; }, barrier);
    ASSERT_TRUE(supervisor.start());
    ASSERT_TRUE(supervisor.start());  // once
  }
  EXPECT_TRUE(log.lines().empty());
}

TEST(SupervisorTest, NoNotificationOnAFdThatIsNoListener) {
  sys::UniqueFd fd(eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(fd);
  bool asked = false;
  auto r = answer(fd.get(), notif_sizes(), [&](const seccomp_notif&) { return asked = true; });
  ASSERT_TRUE(r);
  EXPECT_FALSE(r.value());
  EXPECT_FALSE(asked);
  EXPECT_FALSE(answer_one(fd.get(), [&](const seccomp_notif&) { return asked = true; }));
}

class NoObserver final : public ProcessTracker::Observer {
 public:
  bool forked(Pid, Pid) override { return false; }
  void ended(Pid) override {}
  bool rescanned(Pid, Pid) override { return false; }
};

TEST(ProcessTrackerTest, APinNamesItsProcessAndKillsOnlyIt) {
  sys::MemoryLog log;
  ProcessTracker tracker(log);
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(gate[1]);
    char c;
    (void)!read(gate[0], &c, 1);  // until killed
    _exit(0);
  }
  close(gate[0]);
  auto st = read_status(child);
  ASSERT_TRUE(st);
  EXPECT_FALSE(tracker.pin(child, st.value().start_time + 1000));  // another start time: another process
  EXPECT_FALSE(tracker.pinned(child));
  ASSERT_TRUE(tracker.pin(child, st.value().start_time));
  EXPECT_TRUE(tracker.pinned(child));
  EXPECT_TRUE(tracker.alive(child));
  EXPECT_TRUE(tracker.pidfd(child));
  EXPECT_TRUE(tracker.kill(child));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(tracker.alive(child));  // the pidfd still names the reaped process
  tracker.forget(child);
  EXPECT_FALSE(tracker.pinned(child));
  EXPECT_FALSE(tracker.kill(child));  // not pinned: never a bare number
  close(gate[1]);
}

TEST(ProcessTrackerTest, WithoutEventsPauseAndSyncDoNothing) {
  sys::MemoryLog log;
  ProcessTracker tracker(log);
  EXPECT_FALSE(tracker.running());
  {
    auto paused = tracker.pause();
    EXPECT_TRUE(paused.owns_lock());
  }
  tracker.sync();
  EXPECT_TRUE(log.lines().empty());
}

}  // namespace
}  // namespace syscg::enforcer
