#include "fs/restart_server.h"

#include "core/restart_protocol.h"
#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

// How long a root client may take to send its request once connected.
constexpr long kRequestDeadlineSeconds = 2;

void reply(int client, std::string_view text) {
  // The client may be gone: nothing to do about it.
  (void)::send(client, text.data(), text.size(), MSG_NOSIGNAL);
}

}  // namespace

Result<std::unique_ptr<RestartServer>> RestartServer::start(const std::string& socket_name, sys::UniqueFd inherited,
                                                            Trusted trusted, Restart restart, Done done,
                                                            sys::Log& log) {
  sys::UniqueFd wake(::eventfd(0, EFD_CLOEXEC));
  if (!wake) return sys::sys_error(Errc::io, "eventfd (restart)");
  if (inherited)
    return std::unique_ptr<RestartServer>(new RestartServer(std::move(inherited), std::move(wake), std::move(trusted),
                                                            std::move(restart), std::move(done), log));
  sys::UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!s) return sys::sys_error(Errc::io, "socket (restart)");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_name.size() > sizeof addr.sun_path) return make_error(Errc::invalid, "restart socket name too long");
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0)
    return sys::sys_error(Errc::io, "bind (restart socket)");
  if (::listen(s.get(), 4) != 0) return sys::sys_error(Errc::io, "listen (restart socket)");
  return std::unique_ptr<RestartServer>(
      new RestartServer(std::move(s), std::move(wake), std::move(trusted), std::move(restart), std::move(done), log));
}

RestartServer::RestartServer(sys::UniqueFd listen, sys::UniqueFd wake, Trusted trusted, Restart restart, Done done,
                             sys::Log& log)
    : listen_(std::move(listen)),
      wake_(std::move(wake)),
      trusted_(std::move(trusted)),
      restart_(std::move(restart)),
      done_(std::move(done)),
      log_(log),
      thread_([this] { run(); }) {}

RestartServer::~RestartServer() {
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) != sizeof one) {
    log_.error("restart socket: {}", sys::sys_error("write(eventfd)").message);
    std::abort();  // the thread would never end: a visible end, not a hang
  }
  thread_.join();
}

void RestartServer::run() {
  sigset_t shutdown;
  sigemptyset(&shutdown);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&shutdown, sig);
  pthread_sigmask(SIG_BLOCK, &shutdown, nullptr);
  for (;;) {
    pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log_.error("restart socket: {}; restarts are refused from now on", sys::sys_error("poll").message);
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    sys::UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;  // the client gave up meanwhile
    bool handed = false;
    try {
      handed = serve(client.get());
    } catch (const std::exception& e) {  // nothing may end this thread
      log_.error("restart socket: {}", e.what());
      reply(client.get(), fmt::format("error {}", e.what()));
    }
    if (handed) {
      done_();
      return;
    }
  }
}

bool RestartServer::serve(int client) {
  auto refuse = [&](std::string_view why) {
    reply(client, fmt::format("error {}", why));
    return false;
  };
  // Who asks first (the credentials are the connect()'s): anyone in our
  // network namespace can reach an abstract socket, and one client at a
  // time is served, so nobody but root may make us wait for a request, and
  // root only for kRequestDeadline (found by an attacker review: an idle
  // connection blocked every restart). The request before the member check:
  // a refusal is then the answer the client waits for.
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0)
    return refuse("cannot tell who asks (SO_PEERCRED)");
  if (peer.uid != 0) return refuse("only root may restart syscgfs");
  const timeval deadline{kRequestDeadlineSeconds, 0};
  if (::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline) != 0)
    return refuse("cannot bound the wait for the request (SO_RCVTIMEO)");
  char buf[64];
  const ssize_t n = ::recv(client, buf, sizeof buf, 0);
  if (n <= 0 || std::string_view(buf, static_cast<std::size_t>(n)) != kRestartRequest) return refuse("unknown request");
  if (auto why = trusted_(peer.pid)) {
    log_.warning("restart asked by process {} refused: {}", peer.pid, *why);
    return refuse(*why);
  }
  log_.notice("restart asked by process {}", peer.pid);
  auto successor = restart_(listen_.get());
  if (!successor) {
    log_.error("restart failed: {}; this daemon serves on", successor.error().message);
    return refuse(successor.error().message);
  }
  log_.notice("handed over to syscgfs pid {}", successor.value());
  reply(client, fmt::format("ok {}", successor.value()));
  return true;
}

}  // namespace syscg::fs
