// Attacks on controlled restarts (`syscg restart`, fs/handoff.h): a member,
// or any local process, against the hand-over of the daemon to its
// successor. Each test states the promise it checks; a failing one is a hole.
#include "tests/support/loosening_fixture.h"
#include "tests/support/proc.h"

#include <gtest/gtest.h>

#include <memory>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <climits>
#include <grp.h>
#include <set>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "core/restart_protocol.h"

namespace syscg::test {
namespace {

using namespace std::chrono_literals;

// The children of `pid` (every thread's), from /proc/PID/task/*/children.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (pid_t tid : numeric_entries(task)) {
    std::istringstream in(read_file(task + "/" + std::to_string(tid) + "/children"));
    for (pid_t c; in >> c;) out.push_back(c);
  }
  return out;
}

std::string cmdline(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

class RestartAttackTest : public LiveLooseningTest {
 protected:
  void SetUp() override {
    // Successors outlive the daemon that started them: as subreaper we reap them.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    LiveLooseningTest::SetUp();
  }
  void TearDown() override {
    for (pid_t s : stopped_) ::kill(s, SIGCONT);
    // Successors still being started by the first daemon are ours to end too.
    if (mount_)
      for (pid_t c : children_of(mount_->daemon_pid()))
        if (cmdline(c).find("takeover=") != std::string::npos) successors_.push_back(c);
    LiveLooseningTest::TearDown();  // unmounts: a successor's loop ends
    // Any successor left (one started behind our back, e.g. by a stale
    // request): our children now, as subreaper.
    for (pid_t c : children_of(getpid()))
      if (cmdline(c).find("takeover=") != std::string::npos &&
          std::find(successors_.begin(), successors_.end(), c) == successors_.end())
        successors_.push_back(c);
    for (pid_t s : successors_) {
      if (!reaped(s, 5s)) {
        ::kill(s, SIGKILL);
        reaped(s, 5s);
      }
    }
    // A successor's mount beneath the first one is not the Mount's to detach.
    if (!leftover_dir_.empty()) {
      for (int i = 0; i < 8 && is_mount_point(leftover_dir_); ++i) ::umount2(leftover_dir_.c_str(), MNT_DETACH);
      ::rmdir(leftover_dir_.c_str());
    }
    // Orphans of killed victims came to us as subreaper.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  // `syscg restart -m MOUNT`: the successor's pid, or 0 (output in `out`).
  pid_t restart(std::string* out = nullptr, int timeout_s = 60) {
    leftover_dir_ = mount_->dir();
    const auto r = sh("timeout -s KILL 90 " + syscg_binary() + " restart --timeout " + std::to_string(timeout_s) +
                      " -m " + mount_->dir() + " 2>&1");
    if (out) *out = r.output;
    if (r.status != 0) return 0;
    const pid_t pid = std::atoi(r.output.c_str());
    if (pid > 0) successors_.push_back(pid);
    return pid;
  }
  // The successor the daemon is starting (its child), stopped with SIGSTOP
  // as soon as it appears; 0 if none appeared within `timeout`.
  pid_t stop_successor(std::chrono::milliseconds timeout = 20s) {
    const pid_t daemon = mount_->daemon_pid();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (pid_t c : children_of(daemon)) {
        if (::kill(c, SIGSTOP) != 0) continue;
        stopped_.push_back(c);
        return c;
      }
      // Busy polling: the successor must be caught before it subscribes
      // to fork events (a few milliseconds after its exec).
    }
    return 0;
  }
  void resume(pid_t pid) {
    ::kill(pid, SIGCONT);
    stopped_.erase(std::remove(stopped_.begin(), stopped_.end(), pid), stopped_.end());
  }

  // The daemon's error lines but the expected "restart failed" one.
  std::string unexpected_errors() {
    std::istringstream in(mount_->log_errors());
    std::string out;
    for (std::string line; std::getline(in, line);)
      if (line.find("restart failed") == std::string::npos) out += line + "\n";
    return out;
  }

  std::vector<pid_t> successors_;
  std::vector<pid_t> stopped_;
  std::string leftover_dir_;
};

// (The window between the snapshot and the successor's fork events, found
// here first, is tested deterministically with the hand-over gate:
// RestartTest.AChildForkedDuringTheRestartIsFoundAndLoosenable and
// AnOrphanForkedDuringTheRestartStaysAMember. Stopping the successor before
// it subscribed could miss the window under load.)

// The restart socket is abstract: any process in the daemon's network
// namespace may connect, whatever its uid. The server reads the request
// before it checks who asks, with no deadline, one client at a time: a
// connection that never sends blocks every restart for as long as it is
// held (a member can do it as well as any user).
TEST_F(RestartAttackTest, AnIdleConnectionByAnyUserDoesNotBlockRestarts) {
  char real[PATH_MAX];
  ASSERT_NE(realpath(mount_->dir().c_str(), real), nullptr);
  const std::string name = restart_socket_name(real);
  int connected[2], hold[2];
  ASSERT_EQ(pipe2(connected, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  const pid_t squatter = fork();
  ASSERT_GE(squatter, 0);
  if (squatter == 0) {
    // nobody: no privilege at all. Only async-signal-safe calls.
    ::close(hold[1]);  // EOF on hold[0] once the test closes its end
    ::close(connected[0]);
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
      _exit(1);
    const int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (s < 0 || connect(s, reinterpret_cast<const sockaddr*>(&addr),
                         static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) != 0)
      _exit(2);
    char c = 'c';
    if (write(connected[1], &c, 1) != 1) _exit(3);
    (void)!read(hold[0], &c, 1);  // until the test lets go: sends nothing
    _exit(0);
  }
  ::close(connected[1]);
  ::close(hold[0]);
  char c = 0;
  ASSERT_EQ(::read(connected[0], &c, 1), 1) << "nobody could not connect";
  ::close(connected[0]);

  std::string out;
  const pid_t successor = restart(&out, 10);
  ::close(hold[1]);  // the squatter exits
  int status = 0;
  ::waitpid(squatter, &status, 0);
  EXPECT_NE(successor, 0) << "an idle connection by nobody blocked `syscg restart`: " << out;
}

// With `-o state=none` the state is nowhere: the successor restores no
// group, and adopt_handed() finds none of the members' groups, so every
// member is let go silently. A root member is then no member at all: it may
// write to the mount like root outside the groups, move itself into a
// group of its own making and have its routed numbers answered from there.
TEST_F(RestartAttackTest, WithoutStateARestartKeepsTheGroupsAndTheirMembers) {
  mount_.reset();
  mount_ = std::make_unique<Mount>(std::vector<std::string>{"-o", "state=none"});
  mkgroup("g", "getppid");
  // A root member that, once told, tries to leave g for a group of its own
  // and then calls getppid.
  const std::string script = "echo ready; read x; mkdir '" + mount_->dir() + "/h' 2>/dev/null; if echo $$ > '" +
                             mount_->dir() +
                             "/h/cgroup.procs' 2>/dev/null; then echo moved; else echo refused; fi; exec " +
                             victim_binary() + " probe getppid";
  PipedProgram member({"/bin/sh", "-c", script});
  ASSERT_EQ(member.read_line(), "ready");
  ASSERT_MOVED(member.pid(), "g");

  // Refusing the restart is as good as keeping everything.
  std::string out;
  restart(&out);
  EXPECT_EQ(members("g"), std::vector<pid_t>{member.pid()}) << "the restart lost group g and its member: " << out;
  ASSERT_TRUE(member.send("go"));
  EXPECT_EQ(member.read_line(), "refused") << "a member left its group after the restart";
  EXPECT_EQ(member.read_line(), "getppid EPERM") << "a member ran a call its group denies";
  EXPECT_EQ(unexpected_errors(), "");
  mount_.reset();  // a refused restart's error line is expected
}

// The successor reads every member's filters back before it serves, one
// at a time on its tracer thread, waiting up to 1 s for each member to stop
// (Enforcer::start); meanwhile the old daemon is frozen (writes: EAGAIN)
// and its supervisor paused (every routed call of every group waits). A
// vfork parent cannot stop: a member that keeps N such processes stretches
// every restart by N seconds, past the CLI's timeout for N > 60.
TEST_F(RestartAttackTest, MembersThatCannotStopDoNotStretchTheHandOver) {
  constexpr int kStuck = 8;
  mkgroup("g", "getppid");
  std::vector<std::unique_ptr<Victim>> stuck;
  for (int i = 0; i < kStuck; ++i) {
    stuck.push_back(std::make_unique<Victim>(std::vector<std::string>{"serve"}));
    ASSERT_EQ(stuck.back()->read_line(), "ready");
    ASSERT_MOVED(stuck.back()->pid(), "g");
    // Its vfork child sleeps 30 s; the member waits for it, unstoppable.
    ASSERT_TRUE(stuck.back()->send("vfork 30000"));
  }
  for (auto& v : stuck)
    ASSERT_TRUE(wait_for_state(v->pid(), 'D') || wait_for_syscall(v->pid(), {SYS_vfork, SYS_clone}));
  // One second each would be 8 s: the restart must be done well within the
  // CLI's --timeout of 5 s (the read-backs share one second).
  const auto r = sh("timeout -s KILL 60 " + syscg_binary() + " restart --timeout 5 -m " + mount_->dir() + " 2>&1");
  ASSERT_EQ(r.status, 0) << "the hand-over stayed frozen, supervisor paused, for the members that cannot stop: "
                         << r.output;
  successors_.push_back(std::atoi(r.output.c_str()));
  for (auto& v : stuck) {
    for (pid_t d : descendants(v->pid())) ::kill(d, SIGKILL);
    v->child().kill(SIGKILL);
  }
}

// Failure paths (held so far; kept as regressions): a successor that cannot
// start, or dies before it serves, leaves the old daemon serving fully —
// routed calls answered from the policy, writes accepted, allows reaching
// the member — and no dead mount behind.
class RestartFailureTest : public RestartAttackTest {
 protected:
  void expect_serving(Victim& v) {
    EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
    EXPECT_EQ(::mkdir(path("h").c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_EQ(allow("g", "getppid"), 0);
    EXPECT_EQ(v.ask("getppid"), "getppid ok");
    ASSERT_EQ(deny("g", "getppid"), 0);
    EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
    EXPECT_EQ(stricter("g"), "");
    struct stat st {};
    EXPECT_EQ(::stat(mount_->dir().c_str(), &st), 0) << std::strerror(errno);
  }
  void finish() {
    EXPECT_EQ(unexpected_errors(), "");
    const std::string dir = mount_->dir();
    mount_.reset();
    EXPECT_FALSE(is_mount_point(dir)) << "a dead mount was left at " << dir;
  }
};

TEST_F(RestartFailureTest, ADeletedBinaryLeavesTheOldDaemonServing) {
  // The daemon runs from a copy, removed before the restart: exec fails.
  const std::string copy = "/tmp/syscgfs-attack-copy-" + std::to_string(getpid());
  ASSERT_EQ(sh("cp " + syscgfs_binary() + " " + copy).status, 0);
  mount_.reset();
  mount_ = std::make_unique<Mount>(std::vector<std::string>{},
                                   std::vector<std::string>{"/bin/sh", "-c", "shift; exec " + copy + " \"$@\"", "sh"});
  ASSERT_EQ(::unlink(copy.c_str()), 0);
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  std::string out;
  EXPECT_EQ(restart(&out), 0) << out;
  expect_serving(v);
  finish();
}

TEST_F(RestartFailureTest, ASuccessorKilledBeforeItServesLeavesTheOldDaemonServing) {
  mkgroup("g", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  std::string out;
  std::thread restarting([&] { restart(&out); });
  const pid_t successor = stop_successor();
  // Meanwhile a routed call waits in the kernel. No ASSERT until the
  // restarting thread is joined (a joinable thread's destructor aborts).
  const bool sent = successor != 0 && v.send("getppid");
  const bool blocked = sent && wait_for_syscall(v.pid(), {SYS_getppid});
  if (successor != 0) {
    ::kill(successor, SIGKILL);
    resume(successor);
  }
  restarting.join();
  ASSERT_NE(successor, 0) << "no successor appeared: " << out;
  ASSERT_TRUE(sent);
  EXPECT_TRUE(blocked) << "not blocked in getppid";
  EXPECT_TRUE(successors_.empty()) << out;
  EXPECT_EQ(v.read_line(10s), "getppid EPERM") << "the waiting call was not answered after the failure";
  expect_serving(v);
  finish();
}

}  // namespace
}  // namespace syscg::test
