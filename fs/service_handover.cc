#include "fs/service_handover.h"

#include "fs/service_notify.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace syscg::fs {

std::string listener_fd_name(const std::vector<Pid>& owners, std::size_t i) {
  const auto earlier = std::count(owners.begin(), owners.begin() + static_cast<std::ptrdiff_t>(i), owners[i]);
  return earlier == 0 ? fmt::format("member-{}", owners[i]) : fmt::format("member-{}-{}", owners[i], earlier);
}

Status store_handover(const Bundle& bundle, std::span<const int> listeners) {
  if (bundle.listeners.size() != listeners.size())
    return make_error(Errc::invalid, "hand-over: the bundle names another number of listeners");
  BOOST_OUTCOME_TRY(memfd, bundle_memfd(bundle));
  // The listeners first: a bundle in the store promises them.
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    BOOST_OUTCOME_TRY(service::store_fds(listener_fd_name(bundle.listeners, i), listeners.subspan(i, 1)));
  }
  const int fd = memfd.get();
  return service::store_fds(kBundleFdName, std::span<const int>(&fd, 1));
}

Result<std::optional<Taken>> take_handover(std::vector<std::pair<std::string, sys::UniqueFd>> passed) {
  std::map<std::string, sys::UniqueFd> by_name;
  for (auto& [name, fd] : passed) by_name[name] = std::move(fd);  // a repeated name: the last one
  const auto bundle_fd = by_name.find(std::string(kBundleFdName));
  if (bundle_fd == by_name.end()) return std::optional<Taken>{};
  BOOST_OUTCOME_TRY(bundle, read_bundle_memfd(bundle_fd->second.get()));
  Taken t;
  Received& r = t.received;
  std::vector<Pid> present;
  for (std::size_t i = 0; i < bundle.listeners.size(); ++i) {
    auto it = by_name.find(listener_fd_name(bundle.listeners, i));
    if (it == by_name.end()) continue;
    present.push_back(bundle.listeners[i]);
    r.listeners.push_back(std::move(it->second));
  }
  t.stored = bundle.listeners;  // every name that was stored, for forget_handover
  bundle.listeners = std::move(present);
  r.bundle = std::move(bundle);
  return std::optional<Taken>(std::move(t));
}

Status forget_handover(const std::vector<Pid>& stored) {
  Status first = outcome::success();
  for (std::size_t i = 0; i < stored.size(); ++i)
    if (auto s = service::remove_fds(listener_fd_name(stored, i)); !s && first) first = s;
  if (auto s = service::remove_fds(kBundleFdName); !s && first) first = s;
  return first;
}

}  // namespace syscg::fs
