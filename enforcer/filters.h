// The member filter record: what the seccomp filters syscg gave a member do,
// and how that record changes as filters are stacked and processes fork.
// Pure: sets and maps only, no system call, no lock (the Enforcer guards a
// FilterBook with its records_mu_).
//
// Contract:
//  - A Filters record splits every syscall number into four disjoint sets:
//    hard (runs unasked), routed (asked of the supervisor: follows the
//    group's policy), tightened (denied by an ERRNO filter: lost for good),
//    unsupervised (denied by a restriction that got no listener: lost for
//    good, for `why_unsupervised`).
//  - after() is the record once a new filter denies `block`; copy_of() a
//    child's copy (it names the process it was copied from).
//  - FilterBook keeps the record of every member and runs an enforce step's
//    lineage: begin() marks the target's record provisional (it claims
//    nothing new while the filter is in flight; children whose fork events
//    come meanwhile copy it with the step's tag), abandon() puts every
//    tagged copy back to the record from before, settle() raises a tagged
//    copy only along a chain of parents known to have the filter. A copy
//    may understate what a process has (a later tightening stacks a filter
//    too many), never overstate it.
#pragma once

#include "core/enforcement.h"
#include "core/ids.h"
#include "core/deny_errnos.h"
#include "core/syscall_set.h"

#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <vector>

namespace syscg::enforcer {

struct Filters {
  SyscallSet hard = SyscallSet::all();  // run without asking
  SyscallSet routed;                    // asked of the supervisor: follow the group's policy
  SyscallSet tightened;                 // denied by ERRNO filters stacked later: lost
  SyscallSet unsupervised;              // denied at a restriction that got no listener: lost
  std::string_view why_unsupervised;    // a static token (the README's list)
  DenyErrnos errnos;                    // what tightened and unsupervised numbers return (the newest filter's)
  bool guarded = false;                 // a filter of ours (with the clone guard) is in
  // Which enforce step wrote the record, and (for a child's copy) the
  // process it was copied from.
  std::uint64_t step = 0;
  Pid from = 0;

  // What the member can still call without the supervisor's say or with it.
  SyscallSet callable() const { return hard | routed; }
  bool operator==(const Filters&) const = default;
};

// How a new filter denies its numbers.
enum class Denial : std::uint8_t {
  routed,        // a supervised filter whose listener the supervisor holds
  unsupervised,  // a restriction that got no listener: lost, for `why`
  tightened,     // an ERRNO filter stacked on a chain that has a listener: lost
};

// The record once `block` is denied as `how` says (`why`: the token for
// unsupervised; `errnos`: what an ERRNO denial returns). An empty block
// changes nothing.
Filters after(const Filters& before, const SyscallSet& block, Denial how, std::string_view why = {},
              const DenyErrnos& errnos = {});
// A child's copy of `record`, copied from process `from`.
Filters copy_of(const Filters& record, Pid from);
// What `allowed` (the group's set) loses to `record`'s filters: "tightened"
// and the unsupervised reason, non-empty parts only.
std::vector<Loss> losses(const Filters& record, const SyscallSet& allowed);

class FilterBook {
 public:
  const Filters* find(Pid pid) const;
  bool contains(Pid pid) const { return records_.contains(pid); }
  // The record of `pid`, or the default (everything hard) when none.
  Filters record_or_default(Pid pid) const;
  void set(Pid pid, const Filters& record) { records_[pid] = record; }
  // Both the record and a pending unfiltered entry.
  void erase(Pid pid);

  // A member forked `child`: it has what its parent had when it forked:
  // the pending unfiltered record (its parent was tightened after the fork)
  // or the parent's record. False when neither is known (no record made).
  bool inherit(Pid parent, Pid child);

  // Enforce steps. begin(): `pid`'s record becomes `before` tagged with a
  // new step id (returned).
  std::uint64_t begin(Pid pid, const Filters& before);
  // Nothing went in: `pid` and every copy tagged `step` get `before` back.
  // step 0 (begin() was not called): only `pid`.
  void abandon(Pid pid, std::uint64_t step, const Filters& before);

  struct Settled {
    // Children found before the filter with no record yet: for a process
    // joining a group, its children the tracker must exclude.
    std::vector<Pid> exclude;
    // attach only: copies made meanwhile of processes forked before the
    // filter (and their descendants): not members, to be forgotten.
    std::vector<Pid> not_members;
  };
  // The filter went in: `pid` gets `settled` (tagged `step`). `before_filter`
  // are the children it forked before the filter reached it: for a member
  // (attach false) those without a record are remembered with `before`, for
  // their fork events to come; for a process joining (attach true) they are
  // returned to be excluded. Copies tagged `step` are raised along chains of
  // parents that have the filter.
  Settled settle(Pid pid, std::uint64_t step, const Filters& before, const Filters& settled,
                 const std::set<Pid>& before_filter, bool attach);

  std::size_t size() const { return records_.size(); }
  // Every record's routed numbers (non-empty ones only).
  std::map<Pid, SyscallSet> routed_sets() const;
  bool pending_unfiltered(Pid pid) const { return unfiltered_.contains(pid); }

 private:
  std::map<Pid, Filters> records_;
  // Children that did not get their parent's new filter, with the record
  // they do have, for a fork event that arrives after the parent settled.
  std::map<Pid, Filters> unfiltered_;
  std::uint64_t steps_ = 0;
};

}  // namespace syscg::enforcer
