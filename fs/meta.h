// Modes, owners and times of every group directory and control file, and
// each group's cgroup.events generation (bumped when "populated" changes).
//
// Thread-safe; its lock is a leaf: nothing is called while it is held.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "fs/access.h"
#include "fs/inode.h"
#include "fs/state_codec.h"

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <sys/stat.h>
#include <unordered_map>

namespace syscg::fs {

// setattr's `to_set` bits: the values of FUSE_SET_ATTR_* (fuse_ops.cc checks).
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

class MetaTable {
 public:
  // The root group's, owned by `owner`; its policy files are 0444.
  explicit MetaTable(const Caller& owner);

  // A new group: like cgroup_kn_set_ugid(), its directory (mode `mode`) and
  // files belong to the creator.
  void add(GroupId group, mode_t mode, const Caller& creator) SYSCG_EXCLUDES(mu_);
  // A group as saved (persist.h); times are now.
  void restore(GroupId group, const OwnerMode& dir, const std::array<OwnerMode, kStateFiles>& files)
      SYSCG_EXCLUDES(mu_);
  void erase(GroupId group) SYSCG_EXCLUDES(mu_);

  // `nr_children`: the directory's child groups (its link count is 2 + that).
  // Errors: not_found (no such group, or a file the root does not have).
  Result<struct stat> stat(Ino ino, std::size_t nr_children) const SYSCG_EXCLUDES(mu_);
  // chmod, chown, utimens (set_attr bits in `to_set`); ctime is now.
  // Errors: not_found.
  Status set(Ino ino, const struct stat& in, int to_set) SYSCG_EXCLUDES(mu_);
  // A write changed `kind` of `group`: mtime and ctime are now.
  void touch(GroupId group, FileKind kind) SYSCG_EXCLUDES(mu_);
  std::optional<OwnerMode> owner_mode(GroupId group, FileKind kind) const SYSCG_EXCLUDES(mu_);
  // The group's directory and files, for the state file; false if unknown.
  bool save(GroupId group, GroupRecord& record) const SYSCG_EXCLUDES(mu_);

  // cgroup.events: nullopt for an unknown (removed) group.
  std::optional<std::uint64_t> events_generation(GroupId group) const SYSCG_EXCLUDES(mu_);
  // "populated" changed in these groups: bumps their generation and
  // cgroup.events' mtime.
  void events_changed(std::span<const GroupId> groups) SYSCG_EXCLUDES(mu_);

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
  static_assert(kControlFiles.size() == kStateFiles);

  mutable SharedMutex mu_;
  std::unordered_map<GroupId, GroupMeta> groups_ SYSCG_GUARDED_BY(mu_);
};

}  // namespace syscg::fs
