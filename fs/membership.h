// Who belongs to which group, as processes come and go: moves by
// cgroup.procs writes, children forked by members (they join their parent's
// group), exits, re-adoption after a restart, and the tightening loop after
// a deny. Records the start time of each moved member (it is persisted) and
// the parent of each member reported by a fork.
//
// Threads: writes (with the facade's write_mu_ held: move, tighten, readopt),
// readers (prune_exited, group_of_writer) and the enforcer's fork/exit and
// supervisor threads (forked, exited) call it concurrently. Its lock is a
// leaf: the Hierarchy, the Enforcement and `populated_changed` are called
// without it.
#pragma once

#include "core/enforcement.h"
#include "core/error.h"
#include "core/hierarchy.h"
#include "core/mutex.h"
#include "fs/access.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace syscg::fs {

class Membership {
 public:
  // Called, with no lock of ours held, with the groups whose cgroup.events
  // "populated" changed.
  using PopulatedChanged = std::function<void(std::span<const GroupId>)>;

  Membership(Hierarchy& hierarchy, Enforcement& enforcement, PopulatedChanged populated_changed);

  // MembershipListener's reports: a member's child joins its group (true);
  // an exited process leaves.
  bool forked(Pid parent, Pid child) SYSCG_EXCLUDES(mu_);
  void exited(Pid pid) SYSCG_EXCLUDES(mu_);
  // Members of `group` whose process is gone leave now.
  void prune_exited(GroupId group);

  // The group of the writer's process, on a view that includes every fork
  // and exit before the call (after Enforcement::sync()); nullopt for a
  // non-member. A recorded member whose pid now names the writer leaves.
  std::optional<GroupId> group_of_writer(const Caller& writer);
  // A recorded member `tgid` whose process is gone leaves now (its number
  // names another process by now).
  void drop_if_gone(Pid tgid);

  // Moves `target` (a member of `from`, or of no group) into `to`, whose set
  // is `allowed`: Enforcement::attach, then the membership, with fork reports
  // held back in between (a child forked after the filter went in joins
  // `to`, one from before stays outside); then waits for supervisor
  // decisions in flight (barrier). Errors: those of Enforcement::attach.
  Status move(const Process& target, GroupId from, GroupId to, const SyscallSet& allowed, Pid writer_tid)
      SYSCG_EXCLUDES(mu_);
  // After a deny: makes every member of `group`'s subtree enforce its new
  // set, chasing children forked before their parent was tightened; the
  // writer's own process last (see Enforcement::policy_changed). Returns
  // the first error, after trying every member.
  Status tighten(GroupId group, Pid writer_tid) SYSCG_EXCLUDES(mu_);
  // A member saved before a restart: joins `group` (whose set is `allowed`)
  // if the pid still names the process that started at `start_time`.
  // Returns whether it did.
  Result<bool> readopt(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed) SYSCG_EXCLUDES(mu_);

  // Moved (or re-adopted) members and their start times.
  std::unordered_map<Pid, std::uint64_t> start_times() const SYSCG_EXCLUDES(mu_);

 private:
  using Populated = std::vector<std::pair<GroupId, bool>>;
  // "populated" of the groups along the chains from `groups` to the root.
  Populated populated_chain(std::span<const GroupId> groups) const;
  // Tells populated_changed about the groups of `chains` that changed.
  void events_changed(std::span<const GroupId> chains, const Populated& before);

  Hierarchy& hierarchy_;
  Enforcement& enforcement_;
  const PopulatedChanged populated_changed_;
  mutable Mutex mu_;
  std::unordered_map<Pid, Pid> parent_of_ SYSCG_GUARDED_BY(mu_);              // members' parents, as reported by forks
  std::unordered_map<Pid, std::uint64_t> start_times_ SYSCG_GUARDED_BY(mu_);  // members moved by a write
};

}  // namespace syscg::fs
