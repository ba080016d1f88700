#include "fs/access.h"

#include <fcntl.h>
#include <set>

namespace syscg::fs {

std::optional<GroupId> HierarchyTree::parent(GroupId group) const {
  auto info = hierarchy_.info(group);
  if (!info) return std::nullopt;
  return info.value().parent;
}

Status check_open(InodeRef ref, int flags) {
  if (ref.kind == FileKind::dir) return make_error(Errc::is_dir, "a group directory");
  if ((flags & O_ACCMODE) == O_RDONLY) return outcome::success();
  // The root allows everything, always: its policy has no writer.
  if (ref.group == kRootGroup && is_policy_file(ref.kind))
    return make_error(Errc::permission, "the root group's policy cannot be changed");
  if (is_read_only(ref.kind)) return make_error(Errc::access, "a read-only control file");
  return outcome::success();
}

bool may_write(const Caller& who, mode_t mode, uid_t uid, gid_t gid) {
  if (who.uid == 0) return true;
  const mode_t bit = who.uid == uid ? S_IWUSR : who.gid == gid ? S_IWGRP : S_IWOTH;
  return (mode & bit) != 0;
}

Status check_owner(const Caller& who, const Process& target) {
  if (who.uid == 0 || who.uid == target.uid || who.uid == target.suid) return outcome::success();
  return make_error(Errc::access, "process " + std::to_string(target.tgid) + " belongs to another user");
}

Result<GroupId> common_ancestor(const Tree& tree, GroupId a, GroupId b) {
  std::set<GroupId> chain;
  for (GroupId g = a; g != kNoGroup;) {
    chain.insert(g);
    const auto parent = tree.parent(g);
    if (!parent) return make_error(Errc::not_found, "the group was removed");
    g = *parent;
  }
  GroupId common = b;
  while (!chain.contains(common)) {
    const auto parent = tree.parent(common);
    if (!parent || *parent == kNoGroup) return make_error(Errc::not_found, "the group was removed");
    common = *parent;
  }
  return common;
}

Status check_policy_write(const Tree& tree, std::optional<GroupId> home, GroupId target, FileKind kind) {
  // Only an allow and a switch to complain loosen (the caller asks for
  // the mode file only then); moves are check_move's.
  if ((kind != FileKind::syscalls_allow && kind != FileKind::mode) || !home) return outcome::success();
  if (tree.contains(target, *home))
    return make_error(Errc::permission, "a member cannot loosen its own group or an ancestor");
  return outcome::success();
}

Status check_move(const Tree& tree, std::optional<GroupId> home, GroupId to, std::optional<GroupId> from) {
  if (!home) return outcome::success();
  if (!tree.contains(*home, to))
    return make_error(Errc::permission, "a member can move processes only within its own group's subtree");
  // A member cannot pull a process out of a group outside its own subtree
  // (out of a stricter sibling, say); a process in no group it may confine.
  if (from && !tree.contains(*home, *from))
    return make_error(Errc::permission, "a member can move only processes of its own group's subtree");
  return outcome::success();
}

}  // namespace syscg::fs
