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
#include "enforcer/sys/unique_fd.h"

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syscg::fs::service {

// True when a service manager listens ($NOTIFY_SOCKET is set and not empty).
bool notify_socket_set();

// "READY=1" and "STATUS=<status>": the service is up (its clients may use it).
Status ready(std::string_view status);
// "STOPPING=1": the service is shutting down.
Status stopping();
// "STATUS=<text>": a one-line state shown by `systemctl status`.
Status status(std::string_view text);

// The file-descriptor store (FileDescriptorStoreMax=): "FDSTORE=1",
// "FDNAME=<name>" with `fds` (SCM_RIGHTS); the manager keeps them across a
// restart of the service and passes them to the next start. Errors: io;
// with $NOTIFY_SOCKET unset, invalid (nothing would keep them).
Status store_fds(std::string_view name, std::span<const int> fds);
// "FDSTOREREMOVE=1", "FDNAME=<name>": the manager closes what it keeps
// under that name.
Status remove_fds(std::string_view name);
// The fds the manager passed at start (LISTEN_FDS, LISTEN_FDNAMES, for this
// process: LISTEN_PID), each with its name, close-on-exec; the variables are
// unset. Empty when none were passed.
std::vector<std::pair<std::string, sys::UniqueFd>> take_passed_fds();

}  // namespace syscg::fs::service
