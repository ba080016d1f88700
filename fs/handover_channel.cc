#include "fs/handover_channel.h"

#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

Status send_with_fds(int sock, std::string_view data, std::span<const int> fds) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(data.size())) return sys::sys_error(Errc::io, "sendmsg (hand-over)");
  return outcome::success();
}

struct Message {
  std::string data;
  std::vector<sys::UniqueFd> fds;
};

// One message; an empty one (data and fds) at EOF.
Result<Message> receive(int sock) {
  char buf[256];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kFdsPerMessage));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error(Errc::io, "recvmsg (hand-over)");
  Message out;
  out.data.assign(buf, static_cast<std::size_t>(n));
  // Every fd that arrived is owned before anything is checked: none leaks.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
    return make_error(Errc::invalid, "a hand-over message was cut short (MSG_CTRUNC)");
  return out;
}

Result<std::string> read_memfd(int fd) {
  std::string text;
  char buf[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::sys_error(Errc::io, "read of the hand-over bundle");
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
}

}  // namespace

Result<sys::UniqueFd> bundle_memfd(const Bundle& bundle) {
  const std::string text = encode_bundle(bundle);
  // A memfd, not a message: the text may be larger than a socket buffer.
  sys::UniqueFd memfd(::memfd_create("syscg-bundle", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return sys::sys_error(Errc::io, "memfd_create");
  for (std::size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(memfd.get(), text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys::sys_error(Errc::io, "write of the hand-over bundle");
    at += static_cast<std::size_t>(n);
  }
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return sys::sys_error(Errc::io, "sealing the hand-over bundle");
  return memfd;
}

Result<Bundle> read_bundle_memfd(int fd) {
  BOOST_OUTCOME_TRY(text, read_memfd(fd));
  return decode_bundle(text);
}

Status send_bundle(int sock, const Bundle& bundle, int lock_fd, int control_fd, std::span<const int> listeners) {
  if (bundle.listeners.size() != listeners.size())
    return make_error(Errc::invalid, "hand-over: the bundle names another number of listeners");
  BOOST_OUTCOME_TRY(memfd, bundle_memfd(bundle));
  std::vector<int> first{memfd.get()};
  if (lock_fd >= 0) first.push_back(lock_fd);
  if (control_fd >= 0) first.push_back(control_fd);
  BOOST_OUTCOME_TRY(send_with_fds(sock, fmt::format("B {} {}", lock_fd >= 0 ? 1 : 0, control_fd >= 0 ? 1 : 0), first));
  for (std::size_t at = 0; at < listeners.size(); at += kFdsPerMessage) {
    const std::size_t n = std::min(kFdsPerMessage, listeners.size() - at);
    BOOST_OUTCOME_TRY(send_with_fds(sock, "L", listeners.subspan(at, n)));
  }
  return outcome::success();
}

Result<Received> receive_bundle(int sock) {
  BOOST_OUTCOME_TRY(first, receive(sock));
  const bool lock = first.data == "B 1 0" || first.data == "B 1 1";
  const bool control = first.data == "B 0 1" || first.data == "B 1 1";
  if (!first.data.starts_with("B ") || first.data.size() != 5 || first.fds.size() != 1u + lock + control)
    return make_error(Errc::invalid, "hand-over: no bundle where one was due");
  BOOST_OUTCOME_TRY(bundle, read_bundle_memfd(first.fds[0].get()));
  Received r;
  r.bundle = std::move(bundle);
  if (lock) r.lock = std::move(first.fds[1]);
  if (control) r.control = std::move(first.fds[lock ? 2 : 1]);
  while (r.listeners.size() < r.bundle.listeners.size()) {
    BOOST_OUTCOME_TRY(more, receive(sock));
    if (more.data != "L" || more.fds.empty() || r.listeners.size() + more.fds.size() > r.bundle.listeners.size())
      return make_error(Errc::invalid, fmt::format("hand-over: {} of {} listeners arrived", r.listeners.size(),
                                                   r.bundle.listeners.size()));
    for (auto& fd : more.fds) r.listeners.push_back(std::move(fd));
  }
  return r;
}

Status send_ready(int sock, Pid pid) { return send_with_fds(sock, fmt::format("R {}", pid), {}); }

Result<Pid> wait_ready(int sock) {
  BOOST_OUTCOME_TRY(m, receive(sock));
  if (m.data.empty()) return make_error(Errc::io, "the successor ended before it served the mount");
  Pid pid = 0;
  if (!m.data.starts_with("R ") ||
      std::from_chars(m.data.data() + 2, m.data.data() + m.data.size(), pid).ec != std::errc{} || pid <= 0)
    return make_error(Errc::invalid, fmt::format("the successor answered '{}'", m.data));
  return pid;
}

Status send_ack(int sock) { return send_with_fds(sock, "A", {}); }

Status wait_ack(int sock) {
  BOOST_OUTCOME_TRY(m, receive(sock));
  if (m.data.empty()) return make_error(Errc::io, "the successor ended before it took the last members");
  if (m.data != "A") return make_error(Errc::invalid, fmt::format("the successor answered '{}'", m.data));
  return outcome::success();
}

}  // namespace syscg::fs
