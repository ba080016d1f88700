// A controlled restart's wire (handover.h), over a connected SOCK_SEQPACKET
// Unix socket between the daemon that gives and its successor.
//
// Contract:
//  - send_bundle: one message "B L C" (L, C: 1 when the state lock's fd,
//    the restart socket's fd follow) with the bundle's text in a sealed
//    memfd, the lock and the socket, then the listeners, at most
//    kFdsPerMessage per message "L", in `listeners` order.
//  - receive_bundle: the inverse. Every fd arrives close-on-exec. A message
//    whose fds were cut short (MSG_CTRUNC), a count that does not match the
//    bundle's, or a malformed bundle is an error (invalid): a successor
//    never runs with fewer listeners than it was given.
//  - The successor answers "R PID" once it serves the mount (send_ready);
//    wait_ready returns that pid, or an error when the socket closes first
//    (the successor failed or died: io). Then a second bundle (members and
//    routed numbers only) and the successor's "A" (send_ack, wait_ack).
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "enforcer/sys/unique_fd.h"
#include "fs/handover.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace syscg::fs {

inline constexpr std::size_t kFdsPerMessage = 200;  // below the kernel's SCM_MAX_FD (253)

// The bundle's text in a sealed memfd, and read back (the service
// manager's fd store keeps the same memfd: service_handover.h).
Result<sys::UniqueFd> bundle_memfd(const Bundle& bundle);
Result<Bundle> read_bundle_memfd(int fd);

// lock_fd, control_fd: -1 when there is none.
Status send_bundle(int sock, const Bundle& bundle, int lock_fd, int control_fd, std::span<const int> listeners);

struct Received {
  Bundle bundle;
  sys::UniqueFd lock;                    // invalid when none was sent
  sys::UniqueFd control;                 // the restart socket, listening; invalid when none was sent
  std::vector<sys::UniqueFd> listeners;  // bundle.listeners' order
};
Result<Received> receive_bundle(int sock);

Status send_ready(int sock, Pid pid);
Result<Pid> wait_ready(int sock);
// The successor's "A": it took the second snapshot (fs/handoff.h).
Status send_ack(int sock);
Status wait_ack(int sock);

}  // namespace syscg::fs
