#include "enforcer/supervisor.h"

#include "enforcer/shutdown_signals.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace syscg::enforcer {
namespace {

Error sys_error(std::string what) {
  return make_error(Errc::io, fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

Supervisor::Supervisor(Decide decide, std::shared_mutex& barrier) : decide_(std::move(decide)), barrier_(barrier) {}

Supervisor::~Supervisor() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!write(wake_.get(), &one, sizeof one);
    thread_.join();
  }
  // listeners_ closes every listener: routed calls now fail with ENOSYS.
}

Status Supervisor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return outcome::success();
  epoll_ = sys::UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys_error("epoll_create1");
  wake_ = sys::UniqueFd(eventfd(0, EFD_CLOEXEC));
  if (!wake_) return sys_error("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) return sys_error("epoll_ctl");
  thread_ = std::thread([this] { run(); });
  return outcome::success();
}

Status Supervisor::add(sys::UniqueFd listener) {
  const int fd = listener.get();
  std::lock_guard lock(mu_);
  if (!thread_.joinable()) return make_error(Errc::io, "the supervisor is not running");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl");
  listeners_.emplace(fd, std::move(listener));
  return outcome::success();
}

void Supervisor::run() {
  block_shutdown_signals();
  epoll_event events[32];
  for (;;) {
    const int n = epoll_wait(epoll_.get(), events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fmt::print(stderr, "syscgfs: error: supervisor: epoll_wait: {}\n", std::strerror(errno));
      return;  // the destructor closes the listeners: fail closed
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) return;
      if (events[i].events & EPOLLIN) serve(fd);
      // No task uses the filter any more: nothing can be routed to it.
      if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        std::lock_guard lock(mu_);
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        listeners_.erase(fd);
      }
    }
  }
}

void Supervisor::serve(int fd) {
  // The decision depends on the syscall number alone, which the kernel
  // copied from the blocked task's registers into the request: nothing the
  // task (or another thread of it) could rewrite between our check and the
  // call's execution. That is why CONTINUE is safe here, despite
  // seccomp_unotify(2)'s warning about argument-rewriting races: we never
  // look at arguments in user memory.
  std::shared_lock hold(barrier_);
  answer_one(fd, [this](const seccomp_notif& req) {
    return req.data.arch == AUDIT_ARCH_X86_64 && req.data.nr >= 0 &&
           decide_(static_cast<pid_t>(req.pid), static_cast<unsigned>(req.data.nr));
  });
}

bool answer_one(int listener, const std::function<bool(const seccomp_notif&)>& allow) {
  // The kernel's structures may be larger than our headers': size them as
  // it says, and zero the receive buffer (it insists).
  static const seccomp_notif_sizes sizes = [] {
    seccomp_notif_sizes s{};
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) != 0)
      s = {sizeof(seccomp_notif), sizeof(seccomp_notif_resp), 0};
    return s;
  }();
  std::vector<unsigned char> req_buf(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<unsigned char> resp_buf(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return false;
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
  resp->id = req->id;
  if (allow(*req)) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else resp->error = -EPERM;
  // ENOENT: the task was interrupted meanwhile; it will ask again.
  (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
  return true;
}

}  // namespace syscg::enforcer
