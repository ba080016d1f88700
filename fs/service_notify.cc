#include "fs/service_notify.h"

#include "enforcer/sys/error.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <fcntl.h>
#include <string>

namespace syscg::fs::service {
namespace {

// A status is one assignment: a newline would start another (and could
// smuggle, say, a MAINPID= from text that is partly the user's).
std::string one_line(std::string_view text) {
  std::string s(text);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// sd_notify returns a negative errno on failure, 0 when $NOTIFY_SOCKET is
// unset (nothing sent), a positive number when sent. unset_environment is 0:
// the daemon notifies more than once (READY=1 now, STOPPING=1 at the end).
Status send(const std::string& message, std::string_view what) {
  const int r = sd_notify(0, message.c_str());
  if (r >= 0) return outcome::success();
  return sys::sys_error(Errc::io, "sd_notify(" + std::string(what) + ") to $NOTIFY_SOCKET", -r);
}

}  // namespace

bool notify_socket_set() {
  const char* s = std::getenv("NOTIFY_SOCKET");
  return s != nullptr && *s != '\0';
}

Status ready(std::string_view status_text) { return send("READY=1\nSTATUS=" + one_line(status_text), "READY=1"); }

Status stopping() { return send("STOPPING=1", "STOPPING=1"); }

Status status(std::string_view text) { return send("STATUS=" + one_line(text), "STATUS="); }

Status store_fds(std::string_view name, std::span<const int> fds) {
  if (!notify_socket_set()) return make_error(Errc::invalid, "no service manager ($NOTIFY_SOCKET unset)");
  const std::string message = "FDSTORE=1\nFDNAME=" + one_line(name);
  const int r = sd_pid_notify_with_fds(0, 0, message.c_str(), fds.data(), static_cast<unsigned>(fds.size()));
  if (r > 0) return outcome::success();
  return sys::sys_error(Errc::io, "sd_pid_notify_with_fds(FDSTORE=1) to $NOTIFY_SOCKET", r < 0 ? -r : EINVAL);
}

Status remove_fds(std::string_view name) {
  return send("FDSTOREREMOVE=1\nFDNAME=" + one_line(name), "FDSTOREREMOVE=1");
}

std::vector<std::pair<std::string, sys::UniqueFd>> take_passed_fds() {
  std::vector<std::pair<std::string, sys::UniqueFd>> out;
  char** names = nullptr;
  // unset_environment: a child of ours must not take them for its own.
  const int n = sd_listen_fds_with_names(1, &names);
  for (int i = 0; i < n; ++i) {
    const int fd = SD_LISTEN_FDS_START + i;
    // sd_listen_fds leaves them inheritable: ours alone.
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    out.emplace_back(names && names[i] ? names[i] : "unknown", sys::UniqueFd(fd));
  }
  if (names) {
    for (int i = 0; i < n; ++i) std::free(names[i]);
    std::free(names);
  }
  return out;
}

}  // namespace syscg::fs::service
