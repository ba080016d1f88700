#include "fs/service_notify.h"

#include "enforcer/sys/error.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
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

}  // namespace syscg::fs::service
