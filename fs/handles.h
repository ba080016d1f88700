// Open files and directories, like kernfs's: a handle is an id into a
// table, never a pointer, so a stale id from the transport is harmless.
//
// A control file's read serves a snapshot taken at open's first read or at
// any read at offset 0, so a reader that reads in pieces sees one version.
// An open cgroup.events handle keeps at most one PollWaiter.
//
// Thread-safe. The table's lock is a leaf; a handle's own lock (Handle::mu)
// is held while its snapshot is taken, which reads the whole model.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "fs/access.h"
#include "fs/inode.h"
#include "fs/poll_waiter.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <poll.h>
#include <span>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace syscg::fs {

struct DirEntry {
  std::string name;
  Ino ino;
  mode_t type;  // S_IFDIR or S_IFREG
};

struct Handle {
  Handle(Ino i, FileKind k, int f, const Caller& o)
      : ino(i), group(decode_inode(i).group), kind(k), flags(f), opener(o) {}

  const Ino ino;
  const GroupId group;
  const FileKind kind;
  const int flags;
  const Caller opener;            // cgroup.procs checks the opener's credentials, as the kernel's f_cred
  std::vector<DirEntry> entries;  // directories: taken at opendir, then constant

  Mutex mu;
  std::string snapshot SYSCG_GUARDED_BY(mu);
  bool has_snapshot SYSCG_GUARDED_BY(mu) = false;
  std::uint64_t seen_generation SYSCG_GUARDED_BY(mu) = 0;  // cgroup.events: at the last snapshot
};

// A file's contents and the group's cgroup.events generation they reflect.
struct Snapshot {
  std::string text;
  std::uint64_t generation;
};

// Serves `size` bytes at `offset` of h's snapshot, first taking a new one
// from `take` at offset 0 or when there is none yet (with h.mu held).
Result<std::string> read_snapshot(Handle& h, off_t offset, std::size_t size,
                                  const std::function<Result<Snapshot>()>& take) SYSCG_EXCLUDES(h.mu);

// poll(2)'s mask of a control file: always readable and writable.
inline constexpr unsigned kReady = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
// A cgroup.events handle's: kReady, and POLLPRI|POLLERR once the group's
// generation (nullopt: the group was removed) differs from the one h's
// last snapshot saw.
unsigned poll_mask(Handle& h, std::optional<std::uint64_t> generation) SYSCG_EXCLUDES(h.mu);

class HandleTable {
 public:
  std::uint64_t add(std::shared_ptr<Handle> handle) SYSCG_EXCLUDES(mu_);
  // Null for an unknown (released) id.
  std::shared_ptr<Handle> find(std::uint64_t id) const SYSCG_EXCLUDES(mu_);
  // Drops the handle and its waiter (a reader still holding it finishes).
  void release(std::uint64_t id) SYSCG_EXCLUDES(mu_);

  // Keeps `waiter` for open handle `id`, replacing (releasing) its previous
  // one; a released id's waiter is released at once.
  void keep_waiter(std::uint64_t id, std::unique_ptr<PollWaiter> waiter) SYSCG_EXCLUDES(mu_);
  // Notifies and releases, outside the lock, the waiters of the
  // cgroup.events handles of `groups`.
  void wake(std::span<const GroupId> groups) SYSCG_EXCLUDES(mu_);

 private:
  struct Open {
    std::shared_ptr<Handle> handle;
    std::unique_ptr<PollWaiter> waiter;
  };

  mutable Mutex mu_;
  std::unordered_map<std::uint64_t, Open> open_ SYSCG_GUARDED_BY(mu_);
  std::uint64_t next_ SYSCG_GUARDED_BY(mu_) = 1;
};

}  // namespace syscg::fs
