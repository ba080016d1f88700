#include "fs/denials.h"

namespace syscg::fs {

std::uint64_t Denials::count(GroupId group, unsigned nr) {
  MutexLock lock(mu_);
  return ++counts_[group][nr];
}

void Denials::killed(GroupId group, Pid tgid) {
  MutexLock lock(mu_);
  auto& list = killed_[group];
  list.push_back(tgid);
  constexpr std::size_t kKept = 32;  // the newest: a bounded report
  if (list.size() > kKept) list.erase(list.begin());
}

void Denials::erase(GroupId group) {
  MutexLock lock(mu_);
  counts_.erase(group);
  killed_.erase(group);
}

std::map<unsigned, std::uint64_t> Denials::counts(GroupId group) const {
  MutexLock lock(mu_);
  auto it = counts_.find(group);
  return it == counts_.end() ? std::map<unsigned, std::uint64_t>{} : it->second;
}

std::vector<Pid> Denials::killed_in(GroupId group) const {
  MutexLock lock(mu_);
  auto it = killed_.find(group);
  return it == killed_.end() ? std::vector<Pid>{} : it->second;
}

}  // namespace syscg::fs
