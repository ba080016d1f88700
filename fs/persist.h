// The model <-> the state's rows (rows.h): what a change saves, and the
// model rebuilt at start.
//
// Saved: every group (its place, set, limits), its directory's and files'
// owners and modes, and the members moved by a write (with their start
// times). Children that joined by forking are not saved: their filters stay
// in place, they are not listed after a restart. A member that exits keeps
// its row until its group is removed or the daemon restarts (restore drops
// it then): exits are reported on the enforcer's threads, which must not
// wait for the disk.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"
#include "fs/membership.h"
#include "fs/meta.h"
#include "fs/rows.h"

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace syscg::fs {

// Each group's key (rows.h). The caller keeps it and the tree in step (it
// holds write_mu_).
struct Keys {
  std::unordered_map<GroupId, RowKey> of{{kRootGroup, kRootKey}};
  RowKey next = kRootKey + 1;
};

// A group's row now. Errors: not_found (the group or its parent is gone).
Result<GroupRow> group_row(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys, GroupId group);
// A new group's rows: its row and its files'.
Result<std::vector<RowOp>> new_group_rows(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                                          GroupId group);
// Each group of `group`'s subtree with its policy, taken before a deny;
// then the rows of those whose policy the deny changed (a leaf: one row).
struct SavedPolicy {
  GroupId group;
  SyscallSet allowed;
  DenyErrnos errnos;
};
std::vector<SavedPolicy> subtree_policies(const Hierarchy& hierarchy, GroupId group);
std::vector<RowOp> narrowed_rows(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                                 const std::vector<SavedPolicy>& before);
// The whole model: DropAll, then every row.
std::vector<RowOp> whole_state(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                               const std::unordered_map<Pid, std::uint64_t>& start_times);

// Rebuilds a fresh model (only the root) from `state`, which to_state() or
// decode() has checked, and fills `keys`. Members whose pid no longer names
// the same process are dropped; their pids are returned (their rows go).
// Errors: those of the Hierarchy (the state contradicts the model).
Result<std::vector<Pid>> restore(const KeyedState& state, Hierarchy& hierarchy, MetaTable& meta, Membership& membership,
                                 Keys& keys);

}  // namespace syscg::fs
