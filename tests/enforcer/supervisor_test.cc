// The supervisor against the real kernel, without a mount: forked children
// route getppid to a listener of their own (a USER_NOTIF filter installed in
// the child, never here), the test takes each listener with pidfd_getfd and
// hands it to a Supervisor. Every wait on a child has a deadline.
#include "enforcer/supervisor.h"
#include "enforcer/sys/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <memory>
#include <cstddef>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace syscg::enforcer {
namespace {

// A child whose getppid is routed to its own listener; per request byte it
// calls getppid once and answers 0 (it ran) or the errno. The test holds
// the only copy of the listener.
class RoutedChild {
 public:
  RoutedChild() {
    int req[2], resp[2];
    if (pipe2(req, O_CLOEXEC) != 0 || pipe2(resp, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // Nothing but our pipes: no copy of another child's listener (taken
      // by the test before this fork) may stay open here.
      req[0] = fcntl(req[0], F_DUPFD, 1000);
      resp[1] = fcntl(resp[1], F_DUPFD, 1000);
      if (req[0] < 0 || resp[1] < 0 || close_range(3, 999, 0) != 0 || close_range(1002, ~0U, 0) != 0) _exit(1);
      sock_filter f[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      sock_fprog prog{static_cast<unsigned short>(std::size(f)), f};
      int fd = -1;
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        fd = static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
      if (write(resp[1], &fd, sizeof fd) != sizeof fd || fd < 0) _exit(1);
      char taken;
      if (read(req[0], &taken, 1) != 1) _exit(1);
      close(fd);  // the test's copy is the only one (as a member's after its injected close)
      for (char c; read(req[0], &c, 1) == 1;) {
        const int err = syscall(SYS_getppid) < 0 ? errno : 0;
        if (write(resp[1], &err, sizeof err) != sizeof err) _exit(1);
      }
      _exit(0);
    }
    close(req[0]);
    close(resp[1]);
    req_ = req[1];
    resp_ = resp[0];
    int fd = -1;
    if (!read_int(fd) || fd < 0) return;
    sys::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    if (pidfd) listener_ = sys::UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
    if (!request()) listener_ = sys::UniqueFd();  // taken: the child closes its copy
  }
  RoutedChild(const RoutedChild&) = delete;
  RoutedChild& operator=(const RoutedChild&) = delete;
  ~RoutedChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {req_, resp_})
      if (fd >= 0) close(fd);
  }
  pid_t pid() const { return pid_; }
  sys::UniqueFd take_listener() { return std::move(listener_); }
  const sys::UniqueFd& listener() const { return listener_; }
  // Asks for one call.
  bool request() { return write(req_, "x", 1) == 1; }
  // The call's outcome (0: it ran; else errno), or -1 after 10 s.
  int outcome() {
    int v = -1;
    return read_int(v) ? v : -1;
  }

 private:
  bool read_int(int& v) {
    pollfd p{resp_, POLLIN, 0};
    if (poll(&p, 1, 10'000) != 1) return false;
    return read(resp_, &v, sizeof v) == sizeof v;
  }

  pid_t pid_ = -1;
  int req_ = -1, resp_ = -1;
  sys::UniqueFd listener_;
};

TEST(SupervisorKernelTest, ListenersTakeTheSynchronousWakeUp) {
  RoutedChild child;
  ASSERT_TRUE(child.listener());
  auto s = set_sync_wake_up(child.listener().get());
  if (!s && (s.error().sys_errno == EINVAL || s.error().sys_errno == ENOTTY)) GTEST_SKIP() << "before Linux 6.6";
  EXPECT_TRUE(s) << s.error().message;
  sys::UniqueFd not_a_listener(eventfd(0, EFD_CLOEXEC));
  auto refused = set_sync_wake_up(not_a_listener.get());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().sys_errno, 0);
  EXPECT_NE(refused.error().message.find("SECCOMP_IOCTL_NOTIF_SET_FLAGS"), std::string::npos);
}

// One thread serves every listener: each call is answered as decide says,
// and no line is logged (on a kernel with the flag).
TEST(SupervisorKernelTest, ManyListenersAreAllServed) {
  sys::MemoryLog log;
  SharedMutex barrier;
  std::atomic<int> asked{0};
  Supervisor supervisor(
      log,
      [&](pid_t tid, unsigned nr) {
        ++asked;
        if (nr != SYS_getppid) return EPERM;
        return tid % 2 == 0 ? 0 : (tid % 4 == 1 ? EPERM : ENOSYS);  // the errno decide gives is the caller's
      },
      barrier);
  ASSERT_TRUE(supervisor.start());
  constexpr int kChildren = 64;
  std::vector<std::unique_ptr<RoutedChild>> children;
  for (int i = 0; i < kChildren; ++i) {
    children.push_back(std::make_unique<RoutedChild>());
    ASSERT_TRUE(children.back()->listener());
    ASSERT_TRUE(supervisor.add(children.back()->take_listener()));
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& c : children) ASSERT_TRUE(c->request());  // all at once
    for (auto& c : children)
      EXPECT_EQ(c->outcome(), c->pid() % 2 == 0 ? 0 : (c->pid() % 4 == 1 ? EPERM : ENOSYS)) << c->pid();
  }
  EXPECT_EQ(asked.load(), 3 * kChildren);
  for (const auto& line : log.lines()) EXPECT_NE(line.find("6.6"), std::string::npos) << line;
}

// Stopping ends the thread (it waits in epoll_wait, which the stop wakes)
// and closes every listener: routed calls then fail with ENOSYS. A stop
// that hung would be caught by the test's timeout, not by a timed check.
TEST(SupervisorKernelTest, StoppingFailsRoutedCallsWithEnosys) {
  sys::MemoryLog log;
  SharedMutex barrier;
  Supervisor supervisor(
      log, [](pid_t, unsigned) { return 0; }, barrier);
  ASSERT_TRUE(supervisor.start());
  RoutedChild a, b;
  ASSERT_TRUE(supervisor.add(a.take_listener()));
  ASSERT_TRUE(supervisor.add(b.take_listener()));
  ASSERT_TRUE(a.request());
  EXPECT_EQ(a.outcome(), 0);
  supervisor.stop();
  for (RoutedChild* c : {&a, &b}) {
    ASSERT_TRUE(c->request());
    EXPECT_EQ(c->outcome(), ENOSYS);
  }
  RoutedChild late;
  EXPECT_FALSE(supervisor.add(late.take_listener()));  // refused: closed at once
  ASSERT_TRUE(late.request());
  EXPECT_EQ(late.outcome(), ENOSYS);
}

}  // namespace
}  // namespace syscg::enforcer
