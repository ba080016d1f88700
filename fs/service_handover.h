// A restart under a service manager (systemd, FileDescriptorStoreMax=): the
// daemon stopping puts its bundle (handover.h) and every seccomp listener in
// the manager's fd store; the next start takes them back, so calls routed
// while no daemon runs wait in the kernel and are answered after.
//
// Contract:
//  - store_handover: the bundle's memfd under kBundleFdName, then each
//    listener under listener_fd_name (one name per member: "member-PID").
//  - take_handover: from the fds passed at start, the bundle and its
//    listeners, in bundle order. A listener the manager no longer has is left
//    out (the manager drops an fd that hangs up: no process uses its filter
//    any more). The received lock and control fds stay empty. nullopt when no bundle was passed (a first start, or a stop
//    that was not a restart). Fds of other names are closed.
//  - forget_handover: asks the manager to close its copies, once the new
//    daemon serves: a later crash then fails closed (ENOSYS), as without a
//    manager.
#pragma once

#include "core/error.h"
#include "enforcer/sys/unique_fd.h"
#include "fs/handover.h"
#include "fs/handover_channel.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syscg::fs {

inline constexpr std::string_view kBundleFdName = "syscg-bundle";
// "member-PID" for listener i; "member-PID-K" for a K-th of the same owner.
std::string listener_fd_name(const std::vector<Pid>& owners, std::size_t i);

Status store_handover(const Bundle& bundle, std::span<const int> listeners);

struct Taken {
  Received received;        // the listeners present, bundle.listeners their owners
  std::vector<Pid> stored;  // every listener's owner as stored: forget_handover's names
};
Result<std::optional<Taken>> take_handover(std::vector<std::pair<std::string, sys::UniqueFd>> passed);
Status forget_handover(const std::vector<Pid>& stored);

}  // namespace syscg::fs
