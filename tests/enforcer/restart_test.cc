// Restarts that lose nothing (issue 13 §3), without a service manager:
// `syscg restart` makes the daemon hand its state, members and seccomp
// listeners to a successor over SCM_RIGHTS (fs/handoff.h). A member whose
// first restriction routed a number keeps it routed: the call it makes while
// no daemon reads the listener waits in the kernel and is answered by the
// successor, and a later allow gives it back.
#include "tests/support/loosening_fixture.h"
#include "tests/support/proc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

using namespace std::chrono_literals;

class RestartTest : public LiveLooseningTest {
 protected:
  void SetUp() override {
    // The successor outlives its parent (the first daemon): as subreaper we
    // reap it, whoever started it.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    LiveLooseningTest::SetUp();
  }
  void TearDown() override {
    LiveLooseningTest::TearDown();  // unmounts: the successor's loop ends
    for (pid_t s : successors_) {
      if (!reaped(s, 5s)) {
        ::kill(s, SIGKILL);
        reaped(s, 5s);
      }
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  // The first daemon again, with the hand-over gate (SYSCGFS_TEST_HANDOFF_GATE).
  void remount_with_gate() {
    gate_ = mount_->dir() + ".gate";
    mount_.reset();
    ASSERT_EQ(::mkdir(gate_.c_str(), 0700), 0);
    ASSERT_EQ(::mkfifo((gate_ + "/paused").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((gate_ + "/go").c_str(), 0600), 0);
    ::setenv("SYSCGFS_TEST_HANDOFF_GATE", gate_.c_str(), 1);
    mount_ = std::make_unique<Mount>();
    ::unsetenv("SYSCGFS_TEST_HANDOFF_GATE");
  }
  ~RestartTest() override {
    if (gate_.empty()) return;
    ::unlink((gate_ + "/paused").c_str());
    ::unlink((gate_ + "/go").c_str());
    ::rmdir(gate_.c_str());
  }
  // Reads the gate's "paused" (the daemon's supervisor is paused).
  std::string wait_paused(std::chrono::milliseconds timeout = 10s) {
    const int fd = ::open((gate_ + "/paused").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "<open failed>";
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[64];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return got;
  }
  void open_gate() {
    const int fd = ::open((gate_ + "/go").c_str(), O_WRONLY | O_CLOEXEC);  // blocks until the daemon reads
    if (fd >= 0) ::close(fd);
  }
  // `syscg restart -m MOUNT`: the successor's pid, or 0 (status and output in `out`).
  pid_t restart(std::string* out = nullptr) {
    const auto r = sh("timeout -s KILL 60 " + syscg_binary() + " restart -m " + mount_->dir() + " 2>&1");
    if (out) *out = r.output;
    if (r.status != 0) return 0;
    const pid_t pid = std::atoi(r.output.c_str());
    if (pid > 0) successors_.push_back(pid);
    return pid;
  }

  std::string gate_;
  std::vector<pid_t> successors_;
};

// The acceptance: routed before, answered during (it waited) and after the
// restart, and loosened by a later allow; nothing reads "daemon-restarted".
TEST_F(RestartTest, ARoutedCallWaitsThroughTheRestartAndAnAllowReachesItAfter) {
  remount_with_gate();
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");  // its first restriction: getppid is routed
  ASSERT_EQ(v.ask("getppid"), "getppid EPERM");
  const int filters_before = filters(v.pid());

  // Every path lookup during the restart must reach a serving daemon.
  std::atomic<bool> stop{false};
  std::map<int, int> failures;  // errno -> count
  int reads = 0;
  std::thread probe([&] {
    while (!stop) {
      const int fd = ::open(path("g/cgroup.procs").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++failures[errno];
        continue;
      }
      char buf[256];
      if (::read(fd, buf, sizeof buf) < 0) ++failures[errno];
      ::close(fd);
      ++reads;
    }
  });

  std::string out;
  std::thread restarting([&] { restart(&out); });
  EXPECT_EQ(wait_paused(), "paused\n");
  // No daemon reads the listener now: the call waits in the kernel.
  EXPECT_TRUE(v.send("getppid"));
  EXPECT_TRUE(wait_for_syscall(v.pid(), {SYS_getppid})) << "not blocked in getppid";
  // Frozen: a change now fails, and changes nothing; reads are served.
  EXPECT_EQ(::mkdir(path("h").c_str(), 0755), -1);
  EXPECT_EQ(errno_name(errno), errno_name(EAGAIN));
  EXPECT_EQ(read_file(path("g/cgroup.procs")), std::to_string(v.pid()) + "\n");
  open_gate();
  restarting.join();
  stop = true;
  probe.join();
  ASSERT_EQ(successors_.size(), 1u) << out;

  // Answered by the successor, from the policy: still denied.
  EXPECT_EQ(v.read_line(10s), "getppid EPERM");
  EXPECT_TRUE(failures.empty()) << "a path under the mount failed during the restart (first errno "
                                << (failures.empty() ? 0 : failures.begin()->first) << ") in " << reads << " reads";
  EXPECT_EQ(members("g"), std::vector<pid_t>{v.pid()});
  EXPECT_EQ(stricter("g"), "") << "nothing is lost: the listener was handed over";
  EXPECT_EQ(::access(path("h").c_str(), F_OK), -1) << "the refused mkdir made a group";

  // A later allow reaches the running member, through the handed listener.
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  ASSERT_EQ(deny("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(filters(v.pid()), filters_before) << "the supervisor answers: no filter stacked";
}

// A child the member forks after the bundle was made, before the successor
// watches forks: no event reaches either daemon. The successor's rescan of
// /proc finds it: it is listed in its parent's group and an allow reaches it
// too (its routed calls go to its parent's listener).
TEST_F(RestartTest, AChildForkedDuringTheRestartIsFoundAndLoosenable) {
  remount_with_gate();
  mkgroup("g", "getppid");
  Victim parent({"serve"});
  ASSERT_EQ(parent.read_line(), "ready");
  ASSERT_MOVED(parent.pid(), "g");
  std::string said;
  std::thread restarting([&] { restart(&said); });
  EXPECT_EQ(wait_paused(), "paused\n");
  SpawnedVictim c(parent);
  const pid_t child = c.pid();
  open_gate();  // before any ASSERT: the restarting thread must be joined
  restarting.join();
  ASSERT_TRUE(c.ok() && c.ready());
  ASSERT_EQ(successors_.size(), 1u) << said;

  const auto listed = members("g");
  EXPECT_NE(std::find(listed.begin(), listed.end(), child), listed.end()) << "the child is not listed";
  EXPECT_EQ(c.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(c.ask("getppid"), "getppid ok") << "the allow reaches the child through its parent's listener";
  EXPECT_EQ(parent.ask("getppid"), "getppid ok");
  EXPECT_EQ(stricter("g"), "");
}

// The same child, orphaned: its parent exits before the successor runs, so
// no rescan of /proc can tie it to a member (its parent is now a
// subreaper). The predecessor saw the fork: its second snapshot, taken once
// the successor's own events run, hands it over. A later deny reaches it.
TEST_F(RestartTest, AnOrphanForkedDuringTheRestartStaysAMember) {
  remount_with_gate();
  mkgroup("g", "getppid");
  auto parent = std::make_unique<Victim>(std::vector<std::string>{"serve"});
  ASSERT_EQ(parent->read_line(), "ready");
  ASSERT_MOVED(parent->pid(), "g");
  std::string said;
  std::thread restarting([&] { restart(&said); });
  EXPECT_EQ(wait_paused(), "paused\n");
  SpawnedVictim c(*parent);
  const pid_t child = c.pid();
  parent->close_stdin();  // the parent exits: the child is an orphan
  EXPECT_EQ(parent->child().wait_for(5s), 0);
  open_gate();  // before any ASSERT: the restarting thread must be joined
  restarting.join();
  ASSERT_TRUE(c.ok() && c.ready());
  ASSERT_EQ(successors_.size(), 1u) << said;

  const auto listed = members("g");
  EXPECT_NE(std::find(listed.begin(), listed.end(), child), listed.end()) << "the orphan is not listed";
  ASSERT_EQ(deny("g", "uname"), 0);
  EXPECT_EQ(c.ask("uname"), "uname EPERM") << "a deny after the restart must reach the orphan";
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(c.ask("getppid"), "getppid ok");
}

// Twice in a row, and the second successor still has every listener: a
// restarted daemon hands over what it took.
TEST_F(RestartTest, ASuccessorCanBeRestartedInTurn) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  std::string out;
  ASSERT_NE(restart(&out), 0) << out;
  ASSERT_NE(restart(&out), 0) << out;
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(allow("g", "getppid"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(stricter("g"), "");
}

// Members whose threads make a routed call every millisecond: the
// supervisor is answering one when the restart pauses it (a pause under the
// barrier's lock deadlocked with an answer waiting for it, found here).
TEST_F(RestartTest, RestartsWhileRoutedCallsKeepComing) {
  mkgroup("g", "getppid");
  std::vector<std::unique_ptr<Victim>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<Victim>(std::vector<std::string>{"threads", "4"}));
    ASSERT_EQ(busy.back()->read_line(), "ready");
    ASSERT_MOVED(busy.back()->pid(), "g");
  }
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("restart " + std::to_string(round));
    std::string out;
    ASSERT_NE(restart(&out), 0) << out;
    for (auto& v : busy) EXPECT_EQ(v->ask("report"), "EPERM EPERM EPERM EPERM ");
  }
  ASSERT_EQ(allow("g", "getppid"), 0);
  for (auto& v : busy) EXPECT_EQ(v->ask("report"), "ok ok ok ok ");
  EXPECT_EQ(stricter("g"), "");
}

// A member must not get the listeners (its own among them) by asking for a
// restart: refused, and nothing changes.
TEST_F(RestartTest, AMemberCannotAskForARestart) {
  mkgroup("g");
  const auto r = sh(syscg_binary() + " exec -m " + mount_->dir() + " g -- " + syscg_binary() + " restart -m " +
                    mount_->dir() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("is a member of a group"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  // Still served by the first daemon: a change goes through.
  EXPECT_EQ(::mkdir(path("h").c_str(), 0755), 0);
}

TEST_F(RestartTest, NoDaemonAtTheMountIsOneLineAndStatusOne) {
  const auto r = sh(syscg_binary() + " restart -m /tmp 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("no syscgfs serves /tmp"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace syscg::test
