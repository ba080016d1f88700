// The daemon's side of the service manager's notification protocol
// (sd_notify(3), systemd.service(5) Type=notify), on libsystemd.
//
// Each function sends one datagram of NAME=VALUE lines to the socket named
// by $NOTIFY_SOCKET, from the calling process (with NotifyAccess=main the
// manager accepts it only from the main process: run syscgfs with -f).
// With $NOTIFY_SOCKET unset they send nothing and succeed. A failure (a bad
// address, a socket gone, a refused send) is returned as an Error with the
// errno in sys_errno, for the caller to log; nothing here logs or exits.
// Newlines in a status text are sent as spaces (a line ends an assignment).
// Safe to call from any thread.
#pragma once

#include "core/error.h"

#include <string_view>

namespace syscg::fs::service {

// True when a service manager listens ($NOTIFY_SOCKET is set and not empty).
bool notify_socket_set();

// "READY=1" and "STATUS=<status>": the service is up (its clients may use it).
Status ready(std::string_view status);
// "STOPPING=1": the service is shutting down.
Status stopping();
// "STATUS=<text>": a one-line state shown by `systemctl status`.
Status status(std::string_view text);

}  // namespace syscg::fs::service
