#include "enforcer/supervisor.h"

#include "enforcer/shutdown_signals.h"
#include "enforcer/sys/error.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

// Older headers lack the Linux 6.6 flag.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace syscg::enforcer {
namespace {

// One answer into buffers the caller owns (the thread's, reused: no
// allocation per call). `error_of` is any callable (no std::function here)
// giving 0 (run the call) or the errno to fail it with.
template <class ErrorOf>
Result<bool> answer_with(int listener, unsigned char* req_buf, unsigned char* resp_buf, const NotifSizes& sizes,
                         const ErrorOf& error_of) {
  // Zeroed: the kernel insists on a zeroed receive buffer.
  std::memset(req_buf, 0, sizes.notif);
  std::memset(resp_buf, 0, sizes.resp);
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return false;
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf);
  resp->id = req->id;
  const int error = error_of(*req);
  const bool allowed = error == 0;
  if (allowed)
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else
    resp->error = -error;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0) return true;
  // ENOENT: the task was interrupted meanwhile; it will ask again.
  if (errno == ENOENT) return true;
  Error refused =
      sys::sys_error(Errc::io, allowed ? "SECCOMP_IOCTL_NOTIF_SEND (continue)" : "SECCOMP_IOCTL_NOTIF_SEND (error)");
  if (allowed) {
    // Whatever the kernel disliked in the allow, the caller must not wait
    // for ever: deny it (it may ask again).
    resp->flags = 0;
    resp->error = -EPERM;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0 || errno == ENOENT) refused.message += "; denied instead";
  }
  return refused;
}

}  // namespace

Status set_sync_wake_up(int listener) {
  // The flag is passed by value, not through a pointer (despite the
  // ioctl's _IOW encoding). With it the kernel wakes the supervisor with
  // WF_CURRENT_CPU (wake_up_poll_on_current_cpu) when a call is routed,
  // and the caller likewise when it is answered (complete_on_current_cpu):
  // the woken side runs on the CPU that woke it instead of waking an idle
  // one. A waiter in epoll gets it only as WF_SYNC (ep_poll_callback turns
  // any wake flag into wake_up_sync): a hint, not a placement.
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) != 0)
    return sys::sys_error(Errc::io, "SECCOMP_IOCTL_NOTIF_SET_FLAGS");
  return outcome::success();
}

Supervisor::Supervisor(sys::Log& log, Decide decide, SharedMutex& barrier)
    : log_(log), decide_(std::move(decide)), barrier_(barrier) {}

Supervisor::~Supervisor() { stop(); }

void Supervisor::stop() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    if (write(wake_.get(), &one, sizeof one) != sizeof one) {
      // The thread would wait for ever: a visible end, not a hang.
      log_.error("supervisor: {}", sys::sys_error("write(eventfd)").message);
      std::abort();
    }
    thread_.join();
  }
  close_all();  // routed calls now fail with ENOSYS
}

Status Supervisor::start() {
  MutexLock lock(mu_);
  if (thread_.joinable()) return outcome::success();
  epoll_ = sys::UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys::sys_error(Errc::io, "epoll_create1");
  wake_ = sys::UniqueFd(eventfd(0, EFD_CLOEXEC));
  if (!wake_) return sys::sys_error(Errc::io, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) return sys::sys_error(Errc::io, "epoll_ctl");
  sizes_ = notif_sizes();
  req_buf_.assign(sizes_.notif, 0);
  resp_buf_.assign(sizes_.resp, 0);
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return outcome::success();
}

Status Supervisor::add(sys::UniqueFd listener, Pid owner) {
  const int fd = listener.get();
  MutexLock lock(mu_);
  if (!running_) return make_error(Errc::io, "the supervisor is not running");
  // Before epoll_ctl: the flag is read at every wake-up, never cached.
  if (auto s = set_sync_wake_up(fd); !s && !sync_wake_logged_) {
    sync_wake_logged_ = true;  // once: every listener of this kernel says the same
    log_.notice("supervisor: no synchronous wake-up ({}; needs Linux 6.6): routed calls still work", s.error().message);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return sys::sys_error(Errc::io, "epoll_ctl");
  listeners_.emplace(fd, Held{owner, std::move(listener)});
  return outcome::success();
}

void Supervisor::pause() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    running_ = false;  // add() refuses: nothing may be added that the successor does not get
  }
  const std::uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof one) != sizeof one) {
    log_.error("supervisor: {}", sys::sys_error("write(eventfd)").message);
    std::abort();
  }
  thread_.join();
  std::uint64_t drained = 0;  // the eventfd counter back to 0, for resume()
  if (read(wake_.get(), &drained, sizeof drained) != sizeof drained)
    log_.error("supervisor: {}", sys::sys_error("read(eventfd)").message);
}

Result<std::vector<Supervisor::Held>> Supervisor::held() const {
  MutexLock lock(mu_);
  std::vector<Held> out;
  out.reserve(listeners_.size());
  for (const auto& [fd, h] : listeners_) {
    sys::UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy) return sys::sys_error(Errc::io, "dup of a listener");
    out.push_back({h.owner, std::move(copy)});
  }
  return out;
}

Status Supervisor::resume() {
  MutexLock lock(mu_);
  if (thread_.joinable()) return outcome::success();
  if (!epoll_) return make_error(Errc::io, "the supervisor never started");
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return outcome::success();
}

void Supervisor::close_all() {
  MutexLock lock(mu_);
  running_ = false;
  listeners_.clear();
}

// The thread's entry: nothing escapes it (std::terminate would take the
// daemon down with every member's routed call pending). Whatever ends the
// loop but the destructor closes the listeners: fail closed.
void Supervisor::run() {
  block_shutdown_signals();
  try {
    serve_events();
  } catch (const std::exception& e) {
    log_.error("supervisor: {}; its listeners are closed: routed calls fail with ENOSYS", e.what());
    close_all();
  } catch (...) {
    log_.error("supervisor: unknown exception; its listeners are closed: routed calls fail with ENOSYS");
    close_all();
  }
}

void Supervisor::serve_events() {
  epoll_event events[32];
  for (;;) {
    const int n = epoll_wait(epoll_.get(), events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_.error("supervisor: {}; its listeners are closed: routed calls fail with ENOSYS",
                 sys::sys_error("epoll_wait").message);
      close_all();
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) return;
      if (events[i].events & EPOLLIN) serve(fd);
      // No task uses the filter any more: nothing can be routed to it.
      if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        MutexLock lock(mu_);
        (void)epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);  // closing it deregisters it anyway
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
  ReaderLock hold(barrier_);
  auto r = answer_with(fd, req_buf_.data(), resp_buf_.data(), sizes_, [this](const seccomp_notif& req) {
    if (req.data.arch != AUDIT_ARCH_X86_64 || req.data.nr < 0) return EPERM;
    return decide_(static_cast<pid_t>(req.pid), static_cast<unsigned>(req.data.nr));
  });
  if (!r) log_.error("supervisor: {}", r.error().message);
}

NotifSizes notif_sizes() {
  seccomp_notif_sizes s{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) != 0)
    return {sizeof(seccomp_notif), sizeof(seccomp_notif_resp)};
  return {std::max<std::size_t>(s.seccomp_notif, sizeof(seccomp_notif)),
          std::max<std::size_t>(s.seccomp_notif_resp, sizeof(seccomp_notif_resp))};
}

Result<bool> answer(int listener, const NotifSizes& sizes, const std::function<bool(const seccomp_notif&)>& allow) {
  std::vector<unsigned char> req_buf(sizes.notif), resp_buf(sizes.resp);
  return answer_with(listener, req_buf.data(), resp_buf.data(), sizes,
                     [&](const seccomp_notif& req) { return allow(req) ? 0 : EPERM; });
}

bool answer_one(int listener, const std::function<bool(const seccomp_notif&)>& allow) {
  auto r = answer(listener, notif_sizes(), allow);
  return !r || r.value();  // an answer was attempted: a notification was there
}

}  // namespace syscg::enforcer
