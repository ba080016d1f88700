// syscgfs's file semantics over the core Hierarchy, independent of the FUSE
// transport: every operation returns a Result whose error fuse_ops.cc turns
// into exactly one reply (via to_errno, the project's one mapping).
//
// A facade over parts with one job each: inode.h (names, inodes), meta.h
// (modes, owners, times), access.h (who may do what; no self-release),
// handles.h (open files, snapshots, pollers), render.h (control-file text),
// membership.h (moves, forks, exits, tightening), denials.h, persist.h and
// journal.h (the saved state: a change's rows, group-committed).
//
// Files behave like kernfs: a read serves a snapshot (handles.h); a write
// is one command, its offset ignored, at most grammar::kMaxWrite bytes.
// Membership is read after Enforcement::sync(): every fork before a request
// is in the view.
//
// Locks (syscg::Mutex, checked by Clang's -Wthread-safety): the daemon's
// one order is in docs/ARCHITECTURE.md ("Locks"); syscgfs's share of it:
//  - write_mu_ first: it serialises every mutation with its Enforcement
//    calls (attach, barrier, policy_changed, adopt); the enforcer's locks
//    (decide_mu_ for barrier, then the pause_events() lock a move holds
//    across attach and the membership commit) come after it. A change's
//    rows are queued under it (Journal::enqueue, a leaf), in its order; the
//    request waits for them to be durable (Journal::wait, which may commit
//    for others too) only after releasing it, holding no lock.
//  - Handle::mu (a handle's snapshot, held while its text is rendered, which
//    calls alive/stricter/may_subvert) is never held with write_mu_ or the
//    pause: the two have no order between them.
//  - Leaves: MetaTable::mu_, HandleTable::mu_, Membership::mu_, Denials::mu_,
//    Journal::mu_ (and the log sink's); nothing is called while one is held and no two
//    are held at once; the Hierarchy's own lock comes last.
// The Enforcement is never called with a leaf held; its listener callbacks
// (forked, exited, trapped, killed) take only leaves and the Hierarchy's
// lock, so the enforcer may call them holding its own locks. Reads never
// take write_mu_, so a process being stopped by the enforcer can still
// stat and read the mount.
#pragma once

#include "core/enforcement.h"
#include "core/hierarchy.h"
#include "core/mutex.h"
#include "enforcer/sys/log.h"
#include "fs/access.h"
#include "fs/denials.h"
#include "fs/handles.h"
#include "fs/handover.h"
#include "fs/inode.h"
#include "fs/membership.h"
#include "fs/meta.h"
#include "fs/poll_waiter.h"
#include "fs/journal.h"
#include "fs/persist.h"
#include "fs/rows.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace syscg::fs {

struct Entry {
  Ino ino;
  struct stat attr;
};

struct Options {
  Caller owner;  // of the root group
  // When set, every acknowledged change is saved through it (its rows
  // durable in the store) before the reply; when null, nothing is
  // persisted. Kept by pointer; it outlives the Filesystem.
  Journal* journal = nullptr;
  // When set, the log gets a notice per denial the supervisor reports, at
  // the 1st, 2nd, 4th, 8th, ... denial of a number in a group (bounded
  // volume): "denied: process P in /path called NR (name); N denial(s) of
  // it there".
  bool log_denials = false;
};

// The composition root wires it as the Enforcement's MembershipListener
// (Enforcement::set_listener) before the enforcer starts, and keeps it alive
// while the enforcer runs; it never registers itself.
class Filesystem final : public MembershipListener {
 public:
  // `log` (the daemon's one sink, kept by reference) gets the denial
  // notices (Options::log_denials) and an error for each failed save.
  Filesystem(Hierarchy& hierarchy, Enforcement& enforcement, sys::Log& log, Options options = {});
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;
  ~Filesystem() override;

  // Rebuilds the tree, policies, limits, owners, modes and memberships from
  // a saved state (Store::loaded), on a fresh Filesystem, before mounting.
  // Members whose pid no longer names the same process are dropped, and so
  // are their rows; an empty state saves the root's. Errors: invalid (the
  // state contradicts the model: a set wider than its parent's, ...); io.
  Status restore(const KeyedState& state) SYSCG_EXCLUDES(write_mu_);

  // A controlled restart (handover.h, restart.cc). freeze(): every later
  // mutation fails with EAGAIN (handing_over), and it returns once every
  // change acknowledged before is durable, so the successor reads the whole
  // state from the database; thaw() undoes it (the successor failed).
  // Errors: io (the journal could not commit).
  Status freeze() SYSCG_EXCLUDES(write_mu_);
  void thaw() SYSCG_EXCLUDES(write_mu_);
  // Every member now (frozen: no write moves one meanwhile; after
  // Enforcement::sync: every fork before the call is in), with its start
  // time and its group's path; processes gone meanwhile are left out.
  std::vector<HandedMember> members_now();
  // The successor, after restore(): handed members the state lacks (children
  // that joined by forking) join their groups if their pid still names the
  // same process, and are saved. Returns how many joined. Errors: io.
  Result<std::size_t> adopt_handed(const std::vector<HandedMember>& members) SYSCG_EXCLUDES(write_mu_);

  Result<Entry> lookup(Ino parent, std::string_view name) const;
  Result<struct stat> getattr(Ino ino) const;
  // chmod, chown, utimens; a truncate to size 0 is accepted and ignored
  // (shells open with O_TRUNC). `to_set` holds set_attr bits (meta.h).
  Result<struct stat> setattr(Ino ino, const struct stat& in, int to_set, const Caller& caller)
      SYSCG_EXCLUDES(write_mu_);
  Result<Entry> mkdir(Ino parent, std::string_view name, mode_t mode, const Caller& caller) SYSCG_EXCLUDES(write_mu_);
  Status rmdir(Ino parent, std::string_view name) SYSCG_EXCLUDES(write_mu_);
  // Within one parent only; across parents -> permission (EPERM).
  Status rename(Ino parent, std::string_view name, Ino new_parent, std::string_view new_name, unsigned flags)
      SYSCG_EXCLUDES(write_mu_);
  // Regular files and nodes cannot be created, control files not removed.
  Status create_file(Ino parent, std::string_view name) const;
  Status unlink(Ino parent, std::string_view name) const;

  // Open files and directories: handles are ids into a table, never pointers.
  Result<std::uint64_t> open(Ino ino, int flags, const Caller& caller);
  Result<std::string> read(std::uint64_t handle, off_t offset, std::size_t size);
  Result<std::size_t> write(std::uint64_t handle, std::string_view data, const Caller& writer)
      SYSCG_EXCLUDES(write_mu_);
  // Answers the current poll mask and keeps `waiter` (may be null), replacing
  // the handle's previous one, to notify once cgroup.events changes.
  // POLLPRI|POLLERR once cgroup.events changed since the handle's last
  // snapshot. Other files are always ready; their waiter is released.
  Result<unsigned> poll(std::uint64_t handle, std::unique_ptr<PollWaiter> waiter);
  Result<std::uint64_t> opendir(Ino ino);
  Result<std::vector<DirEntry>> readdir(std::uint64_t handle, off_t offset) const;
  void release(std::uint64_t handle);

  // MembershipListener: children of members join their parent's group;
  // exited processes leave.
  bool forked(Pid parent, Pid child) override;
  void exited(Pid pid) override;
  // Decides from the member's group's current set; counts denials.
  std::optional<int> trapped(Pid tgid, unsigned nr) override;
  void killed(Pid tgid, GroupId group, std::string_view why) override;

 private:
  // A file's text now (render.h), with the generation it reflects.
  Result<Snapshot> snapshot(GroupId group, FileKind kind);
  Result<std::string> render(GroupId group, FileKind kind);
  // control.cc: the writes.
  Status write_command(const Handle& h, std::string_view data, const Caller& writer) SYSCG_EXCLUDES(write_mu_);
  Status write_policy(const Handle& h, std::string_view data, const Caller& writer) SYSCG_EXCLUDES(write_mu_);
  Status write_mode(const Handle& h, std::string_view data, const Caller& writer) SYSCG_EXCLUDES(write_mu_);
  Status move_process(const Handle& h, std::string_view data, const Caller& writer) SYSCG_EXCLUDES(write_mu_);
  // Delegation (access.h) for a move of `target` from `from` by h's opener.
  Status may_move(const Handle& h, const Process& target, GroupId from) SYSCG_REQUIRES(write_mu_);
  // Queues a change's rows (the whole state instead when the journal asks);
  // null when nothing is persisted.
  Journal::Ticket save(std::vector<RowOp> ops) SYSCG_REQUIRES(write_mu_);
  // A group's row, queued.
  Result<Journal::Ticket> save_group(GroupId group) SYSCG_REQUIRES(write_mu_);
  // Returns once the ticket's rows are durable. Errors: io (logged).
  Status durable(const Journal::Ticket& ticket) SYSCG_EXCLUDES(write_mu_);
  void populated_changed(std::span<const GroupId> groups);
  // handing_over (EAGAIN) while frozen for a restart.
  Status writable() const SYSCG_REQUIRES(write_mu_);

  Hierarchy& hierarchy_;
  Enforcement& enforcement_;
  sys::Log& log_;
  const Options options_;
  const HierarchyTree tree_;
  Mutex write_mu_;
  Keys keys_ SYSCG_GUARDED_BY(write_mu_);
  bool frozen_ SYSCG_GUARDED_BY(write_mu_) = false;
  MetaTable meta_;
  HandleTable handles_;
  Denials denials_;
  Membership membership_;
};

}  // namespace syscg::fs
