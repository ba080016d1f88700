// syscg restart [-m MOUNT] [--timeout SECONDS]
//
// Asks the syscgfs serving MOUNT to hand itself over to a fresh syscgfs
// (the same binary path, so an upgrade takes effect) without losing
// anything: the successor takes the state, the members and their seccomp
// listeners over the restart socket's hand-over (fs/handoff.h), mounts over
// the old mount, and the old daemon goes. Prints the successor's pid.
// Statuses: 0, 1 (refused, failed: the old daemon serves on), 2 usage.
#include "core/restart_protocol.h"
#include "enforcer/cli/commands.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace syscg::cli {
namespace {

void run(const Common& common, int timeout_s) {
  char real[PATH_MAX];
  if (!realpath(common.mount.c_str(), real))
    throw CliError(kFailed, fmt::format("{}: {}", common.mount, std::strerror(errno)));
  const std::string name = restart_socket_name(real);
  sys::UniqueFd s(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!s) throw CliError(kFailed, fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  if (connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0)
    throw CliError(kFailed, errno == ECONNREFUSED
                                ? fmt::format("no syscgfs serves {} (or it has no restart socket)", real)
                                : fmt::format("cannot reach the syscgfs of {}: {}", real, std::strerror(errno)));
  // An abstract name can be bound by anyone first: only root's answer counts.
  ucred server{};
  socklen_t len_cred = sizeof server;
  if (getsockopt(s.get(), SOL_SOCKET, SO_PEERCRED, &server, &len_cred) != 0 || server.uid != 0)
    throw CliError(kFailed, fmt::format("the restart socket of {} is not held by root: not asking it", real));
  if (send(s.get(), kRestartRequest.data(), kRestartRequest.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(kRestartRequest.size()))
    throw CliError(kFailed, fmt::format("asking for the restart: {}", std::strerror(errno)));
  pollfd p{s.get(), POLLIN, 0};
  int ready;
  do ready = poll(&p, 1, timeout_s * 1000);
  while (ready < 0 && errno == EINTR);
  if (ready == 0)
    throw CliError(kFailed,
                   fmt::format("no answer within {} s (the restart may still complete: see the log)", timeout_s));
  char buf[1024];
  const ssize_t n = recv(s.get(), buf, sizeof buf, 0);
  if (n <= 0) throw CliError(kFailed, "the daemon closed the connection without an answer");
  const std::string answer(buf, static_cast<std::size_t>(n));
  if (answer.starts_with("ok ")) {
    fmt::print("{}\n", answer.substr(3));
    return;
  }
  throw CliError(kFailed, fmt::format("restart refused: {}", answer.starts_with("error ") ? answer.substr(6) : answer));
}

}  // namespace

void add_restart(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("restart",
                                 "hand the syscgfs of the mount over to a fresh one, losing nothing; prints its pid");
  auto timeout = std::make_shared<int>(60);
  sub->add_option("--timeout", *timeout, "seconds to wait for the answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->callback([&common, timeout] { run(common, *timeout); });
}

}  // namespace syscg::cli
