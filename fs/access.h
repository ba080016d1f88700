// Who may do what (pure: no I/O, no locks; the facade supplies the view).
//
// Modes and owners follow default_permissions: the kernel checks every
// open, chmod and chown against them before a request reaches us. What the
// kernel cannot check is decided here:
//  - Writes: the root group's policy files are read-only to everyone; the
//    read-only control files refuse writes whatever their mode.
//  - Moving a process (cgroup v1 and v2 delegation): root may; any other
//    opener of cgroup.procs must own the process (real or saved uid) and
//    have write access to cgroup.procs of the common ancestor of the source
//    and destination groups.
//  - No self-release (the rule of cgroup namespaces): a writer whose process
//    is a member of group W (its "home") may not write syscalls.allow of W
//    or of an ancestor of W, nor move any process into a group outside W's
//    subtree, nor move a member of a group outside W's subtree (EPERM). It
//    may create, tighten and populate groups below W.
#pragma once

#include "core/enforcement.h"
#include "core/error.h"
#include "core/hierarchy.h"
#include "core/ids.h"
#include "fs/inode.h"

#include <optional>
#include <sys/types.h>

namespace syscg::fs {

// Who asks (the FUSE request's context). pid is the caller's thread id.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

// The group tree as the rules see it.
class Tree {
 public:
  virtual ~Tree() = default;
  // True when `inner` is `outer` or lies below it; false for unknown groups.
  virtual bool contains(GroupId outer, GroupId inner) const = 0;
  // kNoGroup for the root; nullopt for an unknown group.
  virtual std::optional<GroupId> parent(GroupId group) const = 0;
};

// The Tree of a Hierarchy (each query takes its lock once).
class HierarchyTree final : public Tree {
 public:
  explicit HierarchyTree(const Hierarchy& hierarchy) : hierarchy_(hierarchy) {}
  bool contains(GroupId outer, GroupId inner) const override { return hierarchy_.contains(outer, inner); }
  std::optional<GroupId> parent(GroupId group) const override;

 private:
  const Hierarchy& hierarchy_;
};

// Opening `ref` with open(2) `flags`. Errors: permission (writing the root's
// policy), access (writing a read-only control file), is_dir.
Status check_open(InodeRef ref, int flags);

// Whether `who` may write a file of `mode`, owned by uid:gid (owner, group
// or other bits; root always may).
bool may_write(const Caller& who, mode_t mode, uid_t uid, gid_t gid);

// cgroup v1's rule: root, or the process's real or saved uid.
// Errors: access.
Status check_owner(const Caller& who, const Process& target);

// The nearest group that contains both. Errors: not_found (a group left
// the tree).
Result<GroupId> common_ancestor(const Tree& tree, GroupId a, GroupId b);

// No self-release, for a write to file `kind` of `target` by a writer whose
// process is a member of `home` (nullopt: of no group): an allow, or a
// switch to complain (syscalls.mode), of its own group or an ancestor.
// Errors: permission.
Status check_policy_write(const Tree& tree, std::optional<GroupId> home, GroupId target, FileKind kind);
// No self-release for a move into `to` of a process that is a member of
// `from` (nullopt: of no group). Errors: permission.
Status check_move(const Tree& tree, std::optional<GroupId> home, GroupId to, std::optional<GroupId> from);

}  // namespace syscg::fs
