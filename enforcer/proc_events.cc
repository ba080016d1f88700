#include "enforcer/proc_events.h"

#include "enforcer/sys/error.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <cerrno>
#include <cstring>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace syscg::enforcer {
namespace {

using sys::sys_error;

// Sends PROC_CN_MCAST_LISTEN: without it the kernel multicasts nothing.
Status subscribe(int fd) {
  nlmsghdr nl{};
  cn_msg cn{};
  const proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  char buf[sizeof nl + sizeof cn + sizeof op];
  nl.nlmsg_len = sizeof buf;
  nl.nlmsg_type = NLMSG_DONE;
  cn.id.idx = CN_IDX_PROC;
  cn.id.val = CN_VAL_PROC;
  cn.len = sizeof op;
  std::memcpy(buf, &nl, sizeof nl);
  std::memcpy(buf + sizeof nl, &cn, sizeof cn);
  std::memcpy(buf + sizeof nl + sizeof cn, &op, sizeof op);
  if (send(fd, buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) return sys_error(Errc::invalid, "send");
  return outcome::success();
}

}  // namespace

Result<std::unique_ptr<ProcEvents>> ProcEvents::start(ProcEventHandler& handler, sys::Log& log, int watched) {
  sys::UniqueFd fd(socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR));
  if (!fd) return sys_error(Errc::invalid, "socket(NETLINK_CONNECTOR)");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  int rcvbuf = 4 << 20;  // room for fork storms between reads
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
    return sys_error(Errc::io, "setsockopt(SO_RCVBUFFORCE)");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error(Errc::permission, "bind(CN_IDX_PROC)");
  BOOST_OUTCOME_TRY(subscribe(fd.get()));
  sys::UniqueFd stop(eventfd(0, EFD_CLOEXEC));
  if (!stop) return sys_error(Errc::io, "eventfd");
  return std::unique_ptr<ProcEvents>(new ProcEvents(std::move(fd), std::move(stop), watched, handler, log));
}

ProcEvents::ProcEvents(sys::UniqueFd fd, sys::UniqueFd stop_fd, int watched, ProcEventHandler& handler, sys::Log& log)
    : fd_(std::move(fd)),
      stop_fd_(std::move(stop_fd)),
      watched_(watched),
      handler_(handler),
      log_(log),
      thread_([this] { run(); }) {}

ProcEvents::~ProcEvents() {
  const std::uint64_t one = 1;
  if (write(stop_fd_.get(), &one, sizeof one) != sizeof one) {
    // run() would never end: a visible end, not a hang.
    log_.error("process events: {}", sys_error("write(eventfd)").message);
    std::abort();
  }
  thread_.join();
}

void ProcEvents::drain() { read_available(); }

void ProcEvents::run() {
  try {
    poll_loop();
  } catch (const std::exception& e) {
    log_.error("process events: {}; the events thread ended: events are delivered when a decision asks", e.what());
  } catch (...) {
    log_.error("process events: unknown exception; the events thread ended: events are delivered when a decision asks");
  }
}

void ProcEvents::poll_loop() {
  int failures = 0;
  for (;;) {
    pollfd fds[3] = {{fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}, {watched_, POLLIN, 0}};
    if (poll(fds, watched_ >= 0 ? 3 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      const Error e = sys_error("poll");
      log_.error("process events: {}", e.message);
      if (++failures >= kMaxPollFailures) {
        // Deliveries continue through drain(), which every decision calls.
        log_.error(
            "process events: poll failed {} times in a row; the events thread ended: events are delivered "
            "when a decision asks",
            failures);
        return;
      }
      read_available(true);  // whatever was missed: rebuilt from /proc
      continue;
    }
    failures = 0;
    if (fds[1].revents) return;
    if (fds[0].revents || (watched_ >= 0 && fds[2].revents)) read_available();
  }
}

void ProcEvents::read_available(bool rescan) {
  std::lock_guard lock(read_mu_);
  if (rescan || rescan_) {
    rescan_ = true;  // until lost() has returned
    handler_.lost();
  }
  // Marked until the delivery is complete: an exception cut it short.
  rescan_ = true;
  drain_queue();
  // Then what the handler watches (a process's end), after every fork the
  // process made: its fork events were queued before it ended.
  if (watched_ >= 0) handler_.watched_ready([this] { drain_queue(); });
  rescan_ = false;
}

void ProcEvents::drain_queue() {
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    const ssize_t n = recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        handler_.lost();
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // nothing more queued
      // Anything else: what was queued may be gone; fail closed.
      log_.error("process events: {}; treated as lost events", sys_error("recv").message);
      handler_.lost();
      return;
    }
    // Messages are copied out with memcpy: the buffer gives no alignment
    // guarantee for the structures inside.
    for (std::size_t off = 0; off + sizeof(nlmsghdr) <= static_cast<std::size_t>(n);) {
      nlmsghdr nl;
      std::memcpy(&nl, buf + off, sizeof nl);
      if (nl.nlmsg_len < sizeof nl || off + nl.nlmsg_len > static_cast<std::size_t>(n)) break;
      const char* payload = buf + off + sizeof nl;
      off += (nl.nlmsg_len + 3u) & ~std::size_t{3};
      cn_msg cn;
      if (nl.nlmsg_len < sizeof nl + sizeof cn) continue;
      std::memcpy(&cn, payload, sizeof cn);
      if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC) continue;
      proc_event event{};  // the kernel's may be shorter than this header's union
      std::memcpy(&event, payload + sizeof cn,
                  std::min<std::size_t>(nl.nlmsg_len - sizeof nl - sizeof cn, sizeof event));
      const proc_event* ev = &event;
      switch (ev->what) {
        case proc_event::PROC_EVENT_FORK:
          // Threads share their process's membership; only new processes count.
          if (ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
            handler_.forked(ev->event_data.fork.parent_tgid, ev->event_data.fork.child_tgid, ev->timestamp_ns);
          else
            handler_.thread_forked(ev->event_data.fork.child_pid, ev->event_data.fork.child_tgid);
          break;
        case proc_event::PROC_EVENT_EXEC: handler_.execed(ev->event_data.exec.process_tgid); break;
        case proc_event::PROC_EVENT_EXIT:
          // Every thread: a process whose leader exited first ends with
          // the exit of its last other thread.
          handler_.exited(ev->event_data.exit.process_pid, ev->event_data.exit.process_tgid);
          break;
        default: break;
      }
    }
  }
}

}  // namespace syscg::enforcer
