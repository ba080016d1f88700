// syscgfs's file semantics over the core Hierarchy, independent of the FUSE
// transport: every operation returns a Result whose error fuse_ops.cc turns
// into exactly one fuse_reply_err (via to_errno, the project's one mapping).
//
// Tree: the mount's root directory is the root group; each group directory
// holds the control files of kControlFiles and its child groups.
//
// Inodes: a group directory's inode is its GroupId (the root's is 1, FUSE's
// root inode); a control file's is kFileInoBit | GroupId << 8 | kind. Ids are
// never reused, so an inode never names two objects.
//
// No self-release (the rule of cgroup namespaces and delegation): a writer
// whose process is a member of group W may not write syscalls.allow of W or
// of an ancestor of W, nor move any process into a group outside W's
// subtree, nor move a member of a group outside W's subtree (EPERM). It may
// create, tighten and populate groups below W. Membership is read after
// Enforcement::sync(): every fork before the request is in the view.
//
// Files behave like kernfs: a read serves a snapshot taken at open or at a
// read at offset 0; a write is one command, its offset ignored, at most
// grammar::kMaxWrite bytes.
//
// Locking, in this order: write_mu_ (serialises every mutation together with
// its Enforcement call) -> meta_mu_ (modes, owners, times, event counters) ->
// handles_mu_ -> Hierarchy's internal lock; forks_mu_ and denials_mu_ are
// leaves. Reads never take write_mu_, so a
// process being stopped by the enforcer can still stat and read the mount.
#pragma once

#include "core/hierarchy.h"
#include "core/enforcement.h"
#include "enforcer/sys/log.h"
#include "fs/poll_waiter.h"
#include "fs/state.h"

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unordered_map>
#include <vector>

namespace syscg::fs {

enum class FileKind : std::uint8_t {
  dir = 0,
  syscalls_allow,
  syscalls_deny,
  procs,
  max_depth,
  max_descendants,
  stat,
  events,
  stricter,
  denied,
  warnings,
};

struct ControlFile {
  std::string_view name;
  FileKind kind;
  mode_t mode;   // for a group that is not the root
  bool in_root;  // the root group has this file too
};

// Append only: the state file keeps files' owners and modes in this order.
//  - syscalls.stricter: "PID NUMBERS REASON" per member that cannot use
//    NUMBERS although the group allows them (seccomp filters cannot be
//    removed); REASON is a token the README explains.
//  - syscalls.denied: "NR NAME COUNT" per number denied to the group's
//    members by the supervisor, since the daemon started.
//  - syscalls.warnings: "TAG SUBJECT FIX" per way the group's policy is
//    weaker than it reads (warnings.h).
inline constexpr std::array<ControlFile, 10> kControlFiles{{
    {"cgroup.events", FileKind::events, 0444, false},
    {"cgroup.max.depth", FileKind::max_depth, 0644, true},
    {"cgroup.max.descendants", FileKind::max_descendants, 0644, true},
    {"cgroup.procs", FileKind::procs, 0644, true},
    {"cgroup.stat", FileKind::stat, 0444, true},
    {"syscalls.allow", FileKind::syscalls_allow, 0644, true},
    {"syscalls.deny", FileKind::syscalls_deny, 0644, true},
    {"syscalls.stricter", FileKind::stricter, 0444, true},
    {"syscalls.denied", FileKind::denied, 0444, true},
    {"syscalls.warnings", FileKind::warnings, 0444, true},
}};

// An inode number; the FUSE adapter passes Ino through unchanged.
using Ino = std::uint64_t;
inline constexpr Ino kRootInode = 1;  // the root group's directory (FUSE_ROOT_ID)
inline constexpr Ino kFileInoBit = Ino{1} << 63;
struct InodeRef {
  GroupId group;
  FileKind kind;
};
Ino inode_of(GroupId group, FileKind kind);
InodeRef decode_inode(Ino ino);

// Who asks: from fuse_req_ctx. pid is the caller's thread id.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

struct Entry {
  Ino ino;
  struct stat attr;
};

struct DirEntry {
  std::string name;
  Ino ino;
  mode_t type;  // S_IFDIR or S_IFREG
};

// setattr's `to_set` bits; the values of FUSE_SET_ATTR_* (fuse_ops.cc checks).
namespace set_attr {
inline constexpr int mode = 1 << 0;
inline constexpr int uid = 1 << 1;
inline constexpr int gid = 1 << 2;
inline constexpr int size = 1 << 3;
inline constexpr int atime = 1 << 4;
inline constexpr int mtime = 1 << 5;
inline constexpr int atime_now = 1 << 7;
inline constexpr int mtime_now = 1 << 8;
}  // namespace set_attr

struct Options {
  Caller owner;  // of the root group
  // When set, every acknowledged change is saved there (state.h) before the
  // reply; when empty, nothing is persisted.
  std::string state_path;
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

  // Rebuilds the tree, policies, limits, owners, modes and memberships from
  // a saved state, on a fresh Filesystem, before mounting. Members whose pid
  // no longer names the same process are dropped. Errors: invalid (the
  // state contradicts the model: a set wider than its parent's, ...).
  Status restore(const State& state);
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;
  ~Filesystem();

  Result<Entry> lookup(Ino parent, std::string_view name) const;
  Result<struct stat> getattr(Ino ino) const;
  // chmod, chown, utimens; a truncate to size 0 is accepted and ignored
  // (shells open with O_TRUNC). `to_set` holds SetAttr bits.
  Result<struct stat> setattr(Ino ino, const struct stat& in, int to_set, const Caller& caller);
  Result<Entry> mkdir(Ino parent, std::string_view name, mode_t mode, const Caller& caller);
  Status rmdir(Ino parent, std::string_view name);
  // Within one parent only; across parents -> permission (EPERM).
  Status rename(Ino parent, std::string_view name, Ino new_parent, std::string_view new_name,
                unsigned flags);
  // Regular files and nodes cannot be created, control files not removed.
  Status create_file(Ino parent, std::string_view name) const;
  Status unlink(Ino parent, std::string_view name) const;

  // Open files and directories: handles are ids into a table, never pointers.
  Result<std::uint64_t> open(Ino ino, int flags, const Caller& caller);
  Result<std::string> read(std::uint64_t handle, off_t offset, std::size_t size);
  Result<std::size_t> write(std::uint64_t handle, std::string_view data, const Caller& writer);
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
  std::optional<bool> trapped(Pid tgid, unsigned nr) override;
  void killed(Pid tgid, GroupId group, std::string_view why) override;


 private:
  struct Meta {
    mode_t mode;
    uid_t uid;
    gid_t gid;
    timespec mtime;
    timespec ctime;
  };
  struct GroupMeta {
    Meta dir;
    std::array<Meta, kControlFiles.size()> files;
    std::uint64_t events_generation = 0;
  };
  struct Handle;

  Result<struct stat> stat_locked(Ino ino) const;  // caller holds meta_mu_
  Result<std::string> render(GroupId group, FileKind kind);
  Status write_command(Handle& h, std::string_view data, const Caller& writer);
  Status move_process(Handle& h, std::string_view data, const Caller& writer);
  // After a deny: makes every member of `group`'s subtree enforce its new
  // set, chasing children forked before their parent was tightened; the
  // writer's own process last (see Enforcement::policy_changed).
  Status enforce_policy(GroupId group, const Caller& writer);
  Status may_move(const Handle& h, const Process& target, GroupId from);
  // No self-release: see the .cc.
  Status check_containment(GroupId target, FileKind kind, const Caller& writer);
  // A writer that is a member of `home` moves a process (a member of
  // `from`, if any) to `to`: both within home's subtree.
  Status check_move(std::optional<GroupId> home, GroupId to, std::optional<GroupId> from);
  // The group of the writer's process, on a view that includes every fork
  // and exit before the call; nullopt for a non-member.
  std::optional<GroupId> group_of_writer(const Caller& writer);
  std::string render_warnings(GroupId group, const SyscallSet& allowed);
  void prune_exited(GroupId group);
  // Re-evaluates cgroup.events along the chains of `groups`; wakes pollers.
  void events_changed(std::span<const GroupId> chains, const std::vector<std::pair<GroupId, bool>>& before);
  std::vector<std::pair<GroupId, bool>> populated_chain(std::span<const GroupId> groups) const;
  void touch(GroupId group, FileKind kind);
  // Saves the state if persistence is on; the caller holds write_mu_.
  Status persist();
  State capture() const;
  std::shared_ptr<Handle> handle(std::uint64_t id) const;

  Hierarchy& hierarchy_;
  Enforcement& enforcement_;
  sys::Log& log_;
  std::mutex write_mu_;
  mutable std::shared_mutex meta_mu_;
  std::unordered_map<GroupId, GroupMeta> meta_;
  mutable std::mutex handles_mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Handle>> handles_;
  std::uint64_t next_handle_ = 1;
  std::mutex forks_mu_;
  std::unordered_map<Pid, Pid> parent_of_;  // members' parents, as reported by forks
  std::unordered_map<Pid, std::uint64_t> start_times_;  // members moved by a write; guarded by forks_mu_
  std::mutex denials_mu_;  // a leaf: guards denials_ and killed_
  std::unordered_map<GroupId, std::map<unsigned, std::uint64_t>> denials_;
  std::unordered_map<GroupId, std::vector<Pid>> killed_;  // members killed by fail-closed, newest last
  const Options options_;
};

}  // namespace syscg::fs
