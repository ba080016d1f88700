// The group tree: hierarchical syscall sets with the semantics of the
// reviewed 2011 syscalls cgroup controller.
//
// Rules (each enforced here, whatever the front end):
//  - The root (kRootGroup) allows every number; its policy cannot be changed
//    (allow/deny on it -> permission) and it cannot be removed (busy).
//  - A new group starts as a copy of its parent's set.
//  - deny(g, s) clears s in g and in every descendant of g.
//  - allow(g, s) sets s in g only, and only if g's parent allows all of s;
//    otherwise permission and nothing changes. Allow never propagates.
//  - Errnos (deny_errnos.h): a deny gives each number of s the errno
//    `errnos` names (EPERM by default), in g and in every descendant, in the
//    same step (a later deny of the same numbers changes it); an allow
//    clears it in g; a new group copies its parent's. No invariant ties a
//    child's errnos to its parent's.
//  - restart_syscall is in every set, always (see syscall_set.h); a deny
//    whose set contains it is invalid.
//  - Invariant: allowed(g) is a subset of allowed(parent(g)) for every g, in
//    every state any reader can observe.
//  - Mode (syscalls.mode): enforce (the default) or complain, where members
//    may make the calls the policy denies (syscgfs counts and logs them).
//    Like allow and deny: complain may be set on g only when g's parent is
//    the root or in complain mode (else permission: a group cannot let its
//    members run what an enforcing ancestor denies); enforce reaches g and
//    every descendant at once. A new group takes its parent's mode.
//    Invariant: complain(g) implies g's parent is the root or complain.
//  - A group with children or members cannot be removed (busy).
//  - max_depth / max_descendants with the kernel's semantics: creating a
//    group fails with limit (EAGAIN) when some ancestor a (parent included)
//    already has nr_descendants >= a.max_descendants, or when the new group
//    would sit more than a.max_depth levels below a. Default: unlimited.
//  - Group ids are stable and never reused; the root's id is 1, which is also
//    FUSE's root inode number.
//
// Locking: one reader/writer lock for the whole tree. Every mutation takes it
// exclusively, every query shared. This is the kernel's own choice for the
// same problem (devcgroup_mutex, cgroup_mutex): a deny must change a whole
// subtree atomically and an allow must test the parent and set the child as
// one step, and mutations are rare administrative writes. Per-node locks would
// need a top-down lock order over a subtree of unbounded size to give the same
// atomicity, for no gain. check() takes the lock shared and is O(1): every
// group stores its flattened (effective) set, so no ancestor walk is needed.
// No method calls out while holding the lock.
#pragma once

#include "core/deny_errnos.h"
#include "core/error.h"
#include "core/mutex.h"
#include "core/ids.h"
#include "core/grammar.h"
#include "core/syscall_set.h"

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace syscg {

struct GroupInfo {
  GroupId id = kNoGroup;
  GroupId parent = kNoGroup;  // kNoGroup for the root
  std::string name;           // empty for the root
  unsigned depth = 0;         // 0 for the root
  int max_depth = grammar::kUnlimited;
  int max_descendants = grammar::kUnlimited;
  std::size_t nr_descendants = 0;
  std::size_t nr_members = 0;
  std::size_t nr_children = 0;
  SyscallSet allowed;
  DenyErrnos errnos;
  bool complain = false;
};

// A member process and its group's policy.
struct MemberPolicy {
  Pid pid;
  GroupId group;
  SyscallSet allowed;
  DenyErrnos errnos;
};

struct ChildEntry {
  std::string name;
  GroupId id;
};

class Hierarchy {
 public:
  Hierarchy();
  Hierarchy(const Hierarchy&) = delete;
  Hierarchy& operator=(const Hierarchy&) = delete;
  ~Hierarchy();

  // Errors: not_found (parent), invalid (name), exists, limit.
  Result<GroupId> create(GroupId parent, std::string_view name);
  // Errors: not_found, busy (root, children or members).
  Status remove(GroupId group);
  // Renames a group within its parent. Errors: not_found, invalid (name),
  // busy (root), exists.
  Status rename(GroupId group, std::string_view new_name);

  Result<GroupId> lookup(GroupId parent, std::string_view name) const;
  Result<GroupInfo> info(GroupId group) const;
  Result<std::vector<ChildEntry>> children(GroupId group) const;  // sorted by name
  Result<SyscallSet> allowed(GroupId group) const;
  Result<DenyErrnos> errnos(GroupId group) const;
  Result<std::string> path(GroupId group) const;  // "/" or "/a/b"

  // Errors: not_found, permission (root; allow beyond the parent), invalid
  // (deny naming restart_syscall).
  Status allow(GroupId group, const SyscallSet& set);
  Status deny(GroupId group, const SyscallSet& set, const DenyErrnos& errnos = {});
  // Errors: not_found, permission (root; complain under an enforcing parent).
  Status set_complain(GroupId group, bool complain);
  // False for an unknown group.
  bool complains(GroupId group) const noexcept;
  // What a call to `nr` meets in `group`, read in one step (a supervisor
  // decision must not mix two policies): its set, its mode, nr's errno.
  struct CallPolicy {
    SyscallSet allowed;
    bool complain;
    int err;
  };
  std::optional<CallPolicy> call_policy(GroupId group, unsigned nr) const;

  // O(1) in the depth. False for an unknown group or nr >= kSyscallWidth.
  bool check(GroupId group, std::uint64_t nr) const noexcept;
  // The first draft's check: walks the ancestors and ANDs their sets. Kept as
  // the benchmark's baseline; O(depth).
  bool check_naive(GroupId group, std::uint64_t nr) const noexcept;

  // Errors: not_found, out_of_range (negative).
  Status set_max_depth(GroupId group, int limit);
  Status set_max_descendants(GroupId group, int limit);

  // Membership: a pid belongs to at most one group. attach() moves it and
  // returns its previous group, if any. Errors: not_found, out_of_range (pid <= 0).
  Result<std::optional<GroupId>> attach(GroupId group, Pid pid);
  // Removes pid from its group; returns that group, if any.
  std::optional<GroupId> detach(Pid pid);
  std::optional<GroupId> group_of(Pid pid) const;
  Result<std::vector<Pid>> members(GroupId group) const;  // ascending
  // Every member of the group and of its descendants with its group's set,
  // taken atomically.
  Result<std::vector<MemberPolicy>> subtree_members(GroupId group) const;
  // True when `inner` is `outer` or lies below it; false for unknown groups.
  bool contains(GroupId outer, GroupId inner) const;
  // True when the group or one of its descendants has a member.
  Result<bool> populated(GroupId group) const;

  // Every group, parents before children, taken atomically.
  std::vector<GroupInfo> snapshot() const;

 private:
  struct Node;
  Node* find(GroupId id) const SYSCG_REQUIRES_SHARED(mu_);
  GroupInfo describe(const Node& n) const SYSCG_REQUIRES_SHARED(mu_);

  mutable SharedMutex mu_;
  std::unordered_map<GroupId, std::unique_ptr<Node>> nodes_ SYSCG_GUARDED_BY(mu_);
  std::unordered_map<Pid, GroupId> member_of_ SYSCG_GUARDED_BY(mu_);
  GroupId next_id_ SYSCG_GUARDED_BY(mu_) = kRootGroup + 1;
};

}  // namespace syscg
