// The errno a group's denied numbers return: EPERM unless a deny said
// otherwise ("clone3:ENOSYS"). A plain value type kept beside a SyscallSet
// (the allowed numbers); only exceptions are stored, so the common policy
// costs nothing.
//
// Contract:
//  - of(nr) is the errno of nr: the stored one, or EPERM. It means nothing
//    for an allowed number; the model erases entries when it allows one.
//  - Errnos are 1..kMaxErrno (the kernel's MAX_ERRNO, 4095: the syscall
//    return path passes values up to 4095 as -errno; a seccomp ERRNO
//    action's data is clamped to it), without the kernel's internal restart
//    codes 512..529 (errno_names::allowed; the parsers refuse them).
//  - Storing EPERM erases the entry, so two equal policies compare equal.
#pragma once

#include "core/syscall_set.h"

#include <boost/container/flat_map.hpp>

#include <cerrno>
#include <cstdint>

namespace syscg {

inline constexpr int kMaxErrno = 4095;

class DenyErrnos {
 public:
  using Map = boost::container::flat_map<std::uint16_t, std::uint16_t>;

  int of(unsigned nr) const {
    const auto it = map_.find(static_cast<std::uint16_t>(nr));
    return it == map_.end() ? EPERM : it->second;
  }
  // Every number of `nrs` returns `err` (1..kMaxErrno, not checked here).
  void assign(const SyscallSet& nrs, int err) {
    for (unsigned nr : nrs) put(nr, err);
  }
  // Every number of `nrs` gets the errno it has in `o`.
  void assign_from(const DenyErrnos& o, const SyscallSet& nrs) {
    for (unsigned nr : nrs) put(nr, o.of(nr));
  }
  // `nrs` go back to EPERM.
  void clear(const SyscallSet& nrs) {
    for (unsigned nr : nrs) map_.erase(static_cast<std::uint16_t>(nr));
  }
  // The numbers with an errno other than EPERM.
  SyscallSet numbers() const {
    SyscallSet s;
    for (const auto& entry : map_) (void)s.set(entry.first);
    return s;
  }
  bool empty() const { return map_.empty(); }
  const Map& entries() const { return map_; }  // ascending by number
  friend bool operator==(const DenyErrnos&, const DenyErrnos&) = default;
  friend bool operator<(const DenyErrnos& a, const DenyErrnos& b) { return a.map_ < b.map_; }  // for ordered maps

 private:
  void put(unsigned nr, int err) {
    if (err == EPERM)
      map_.erase(static_cast<std::uint16_t>(nr));
    else
      map_.insert_or_assign(static_cast<std::uint16_t>(nr), static_cast<std::uint16_t>(err));
  }
  Map map_;
};

}  // namespace syscg
