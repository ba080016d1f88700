#include "fs/handles.h"

#include <algorithm>

namespace syscg::fs {

Result<std::string> read_snapshot(Handle& h, off_t offset, std::size_t size,
                                  const std::function<Result<Snapshot>()>& take) {
  MutexLock lock(h.mu);
  if (offset == 0 || !h.has_snapshot) {
    BOOST_OUTCOME_TRY(snapshot, take());
    h.snapshot = std::move(snapshot.text);
    h.has_snapshot = true;
    h.seen_generation = snapshot.generation;
  }
  if (offset < 0 || static_cast<std::size_t>(offset) >= h.snapshot.size()) return std::string();
  return h.snapshot.substr(static_cast<std::size_t>(offset), size);
}

unsigned poll_mask(Handle& h, std::optional<std::uint64_t> generation) {
  unsigned mask = kReady;
  MutexLock lock(h.mu);
  if (!generation || *generation != h.seen_generation) mask |= POLLPRI | POLLERR;
  return mask;
}

std::uint64_t HandleTable::add(std::shared_ptr<Handle> handle) {
  MutexLock lock(mu_);
  const auto id = next_++;
  open_.emplace(id, Open{std::move(handle), nullptr});
  return id;
}

std::shared_ptr<Handle> HandleTable::find(std::uint64_t id) const {
  MutexLock lock(mu_);
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : it->second.handle;
}

void HandleTable::release(std::uint64_t id) {
  Open released;  // destroyed after the lock is released
  MutexLock lock(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return;
  released = std::move(it->second);
  open_.erase(it);
}

void HandleTable::keep_waiter(std::uint64_t id, std::unique_ptr<PollWaiter> waiter) {
  MutexLock lock(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) {
    lock.unlock();
    waiter.reset();
    return;
  }
  std::swap(it->second.waiter, waiter);
  lock.unlock();
  waiter.reset();  // the previous one
}

void HandleTable::wake(std::span<const GroupId> groups) {
  std::vector<std::unique_ptr<PollWaiter>> wake;
  {
    MutexLock lock(mu_);
    for (auto& [id, open] : open_)
      if (open.waiter && open.handle->kind == FileKind::events &&
          std::find(groups.begin(), groups.end(), open.handle->group) != groups.end())
        wake.push_back(std::move(open.waiter));
  }
  // A waiter may be notified from any thread (poll_waiter.h).
  for (auto& waiter : wake) waiter->notify();
}

}  // namespace syscg::fs
