// Per group: how often the supervisor denied each number to its members,
// and which members were killed because they could not be given the
// group's set (fail closed; the newest 32). Since the daemon started; not
// persisted.
//
// Thread-safe (the supervisor and the enforcer report from their threads);
// its lock is a leaf.
#pragma once

#include "core/ids.h"
#include "core/mutex.h"

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace syscg::fs {

class Denials {
 public:
  // Counts a denial of `nr` in `group`; returns the count so far (1 first).
  std::uint64_t count(GroupId group, unsigned nr) SYSCG_EXCLUDES(mu_);
  void killed(GroupId group, Pid tgid) SYSCG_EXCLUDES(mu_);
  // A removed group's records go.
  void erase(GroupId group) SYSCG_EXCLUDES(mu_);

  std::map<unsigned, std::uint64_t> counts(GroupId group) const SYSCG_EXCLUDES(mu_);
  std::vector<Pid> killed_in(GroupId group) const SYSCG_EXCLUDES(mu_);  // oldest first

 private:
  mutable Mutex mu_;
  std::unordered_map<GroupId, std::map<unsigned, std::uint64_t>> counts_ SYSCG_GUARDED_BY(mu_);
  std::unordered_map<GroupId, std::vector<Pid>> killed_ SYSCG_GUARDED_BY(mu_);
};

}  // namespace syscg::fs
