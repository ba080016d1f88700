// Group commit of the state's row ops (rows.h): a change is queued under
// the facade's write_mu_, in that lock's order, and the request then waits,
// without write_mu_, until its ops are durable. No thread of its own: the
// first waiter whose ops are not yet saved becomes the leader, takes every
// op queued so far and commits them as one transaction; the others wait for
// it and are woken together (leader/follower). Concurrent writers to
// different groups thus share one fsync.
//
// A failed commit fails every request of its batch, and every request
// queued behind it (their ops assume the failed ones), with io. The model
// then holds changes the store lacks: the journal refuses further deltas
// (enqueue returns nullopt) until the caller queues a whole state (a batch
// starting with DropAll), which brings the store back in line with the
// model. So an EIO means "applied to the running daemon, perhaps not saved";
// the next change saved saves it too.
//
// Locks: mu_ is a leaf (taken under write_mu_ by enqueue, alone by wait).
// The commit runs with no lock held; `committing_` (under mu_) makes its
// caller the only one touching the store.
#pragma once

#include "core/error.h"
#include "core/mutex.h"
#include "fs/rows.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace syscg::fs {

class Journal {
 public:
  // Runs one transaction with every op (Store::commit).
  using Commit = std::function<Status(std::span<const RowOp>)>;
  struct Batch;
  // A queued change; wait() on it.
  using Ticket = std::shared_ptr<Batch>;

  explicit Journal(Commit commit);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Queues `ops` after every op queued before. nullopt when the store missed
  // a commit and `ops` is not a whole state (DropAll first): queue one.
  std::optional<Ticket> enqueue(std::vector<RowOp> ops) SYSCG_EXCLUDES(mu_);
  // Returns once the ticket's ops are durable, committing them (with every
  // op queued meanwhile) if no other request is. Errors: io.
  Status wait(const Ticket& ticket) SYSCG_EXCLUDES(mu_);

  // Commits so far (transactions), for tests and benchmarks.
  std::uint64_t commits() const SYSCG_EXCLUDES(mu_);

 private:
  const Commit commit_;
  mutable Mutex mu_;
  CondVar done_;
  Ticket open_ SYSCG_GUARDED_BY(mu_);  // collecting ops
  bool committing_ SYSCG_GUARDED_BY(mu_) = false;
  bool need_whole_ SYSCG_GUARDED_BY(mu_) = false;
  std::uint64_t commits_ SYSCG_GUARDED_BY(mu_) = 0;
};

struct Journal::Batch {
  std::vector<RowOp> ops;
  bool done = false;  // under the journal's mu_, as is result
  Status result = outcome::success();
};

}  // namespace syscg::fs
