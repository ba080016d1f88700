#include "fs/journal.h"

#include <utility>

namespace syscg::fs {

Journal::Journal(Commit commit) : commit_(std::move(commit)), open_(std::make_shared<Batch>()) {}

std::optional<Journal::Ticket> Journal::enqueue(std::vector<RowOp> ops) {
  const bool whole = !ops.empty() && std::holds_alternative<DropAll>(ops.front());
  MutexLock lock(mu_);
  if (need_whole_ && !whole) return std::nullopt;
  // A whole state makes everything queued before it moot.
  if (whole) open_->ops.clear();
  need_whole_ = false;
  auto& queued = open_->ops;
  queued.insert(queued.end(), std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
  return open_;
}

Status Journal::wait(const Ticket& ticket) {
  MutexLock lock(mu_);
  while (!ticket->done) {
    if (committing_) {
      done_.wait(lock);
      continue;
    }
    // The leader: takes the open batch (ours, or an earlier one whose
    // owners have not come to wait yet) and commits it without our lock.
    committing_ = true;
    Ticket batch = std::exchange(open_, std::make_shared<Batch>());
    lock.unlock();
    Status result = batch->ops.empty() ? outcome::success() : commit_(batch->ops);
    lock.lock();
    committing_ = false;
    ++commits_;
    batch->done = true;
    if (!result) {
      Error e = result.error();
      e.code = Errc::io;
      batch->result = e;
      // Ops queued meanwhile build on the lost ones: fail them too, and ask
      // for the whole state next.
      open_->result = e;
      open_->done = true;
      open_ = std::make_shared<Batch>();
      need_whole_ = true;
    }
    done_.notify_all();
  }
  return ticket->result;
}

std::uint64_t Journal::commits() const {
  MutexLock lock(mu_);
  return commits_;
}

}  // namespace syscg::fs
