// Which processes may share a process's memory (its mm), from the order of
// process events (pure: fed by memory_sharing.h, no system call here).
//
// Why it is sound: a memory is created by exec (or by a fork without
// CLONE_VM, as a copy); a task holds it from then on only if it was cloned
// with CLONE_VM from a holder, and gives it up only by exec or exit. No
// call joins an existing memory and none leaves it silently (unlike an fd
// table, which unshare(CLONE_FILES) leaves without an event). Events come
// in causal order (a fork's event is queued before the child runs, an
// exec's before it returns). So every other holder of the memory made by a
// process's last exec was born after that exec: a process whose exec the
// log saw may share its memory only with processes born later, which the
// log lists. Threads are counted so that a process whose leader exited
// (its other threads still holding the memory) stays listed.
//
// Where the log cannot say (no exec of the process seen since logging
// began, or events were lost since its exec), bound() answers nullopt and
// the caller must look at every process.
#pragma once

#include "core/ids.h"

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace syscg::enforcer {

class BirthLog {
 public:
  void forked(Pid child_tgid);     // a new process
  void thread_forked(Pid tgid);    // one more task in tgid
  void execed(Pid tgid);           // tgid's memory is new
  void exited(Pid tid, Pid tgid);  // one task of tgid fewer
  void lost();                     // events were dropped: forget everything

  // The processes (other than tgid) that may share tgid's memory, alive as
  // far as the log knows; nullopt when the log cannot bound them.
  std::optional<std::vector<Pid>> bound(Pid tgid) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t born = 0;  // 0: born before logging began
    std::optional<std::uint64_t> exec;
    long tasks = -1;  // -1: unknown (born before logging began)
  };
  void erase(Pid tgid);

  std::uint64_t seq_ = 0;
  std::unordered_map<Pid, Entry> entries_;
  std::map<std::uint64_t, Pid> by_birth_;  // the processes born while logging
};

}  // namespace syscg::enforcer
