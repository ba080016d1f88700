#include "enforcer/birth_log.h"

namespace syscg::enforcer {

void BirthLog::erase(Pid tgid) {
  const auto it = entries_.find(tgid);
  if (it == entries_.end()) return;
  if (it->second.born != 0) by_birth_.erase(it->second.born);
  entries_.erase(it);
}

void BirthLog::forked(Pid child_tgid) {
  erase(child_tgid);  // a number used again: the old process is gone
  const std::uint64_t born = ++seq_;
  entries_[child_tgid] = Entry{born, std::nullopt, 1};
  by_birth_[born] = child_tgid;
}

void BirthLog::thread_forked(Pid tgid) {
  if (auto it = entries_.find(tgid); it != entries_.end() && it->second.tasks >= 0) ++it->second.tasks;
}

void BirthLog::execed(Pid tgid) {
  // A process born before logging began is entered now: its exec is what
  // bounds its sharers.
  auto& e = entries_[tgid];
  e.exec = ++seq_;
}

void BirthLog::exited(Pid tid, Pid tgid) {
  const auto it = entries_.find(tgid);
  if (it == entries_.end()) return;
  // Unknown task count: the leader's exit ends what the log can say (its
  // other threads, if any, are not counted).
  if (it->second.tasks < 0 ? tid == tgid : --it->second.tasks <= 0) erase(tgid);
}

void BirthLog::lost() {
  entries_.clear();
  by_birth_.clear();
}

std::optional<std::vector<Pid>> BirthLog::bound(Pid tgid) const {
  const auto it = entries_.find(tgid);
  if (it == entries_.end() || !it->second.exec) return std::nullopt;
  std::vector<Pid> out;
  for (auto b = by_birth_.upper_bound(*it->second.exec); b != by_birth_.end(); ++b)
    if (b->second != tgid) out.push_back(b->second);
  return out;
}

}  // namespace syscg::enforcer
